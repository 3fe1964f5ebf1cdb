"""The example processes' plugins (examples/plugins.py), loaded through BATON_PLUGIN_MODULES."""
