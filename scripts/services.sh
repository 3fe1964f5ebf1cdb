# Sourced by scripts/test and .ci/run: the services the tests need, in one place.
# Each entry: name|port on 127.0.0.1|seconds to wait for it after starting|the command that starts it.
SERVICES=(
    "PostgreSQL|5432|60|pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
    "Redis|6379|60|redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"
    # RabbitMQ boots an Erlang VM: it is the slow one.
    "RabbitMQ|5672|90|rabbitmq-server -detached"
)

answers() {  # port: does something accept a TCP connection on 127.0.0.1:port within 1 s?
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null
}
