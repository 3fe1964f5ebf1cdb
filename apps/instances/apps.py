from django.apps import AppConfig


class InstancesConfig(AppConfig):
    name = "apps.instances"
    label = "baton_instances"
    verbose_name = "Process instances"
