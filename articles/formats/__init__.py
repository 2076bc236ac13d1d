"""Date formats by language (settings.FORMAT_MODULE_PATH): only where Django's own would change what patients read."""
