"""Built-in vendor decoders, one module each; every module in this package is imported by the registry."""
