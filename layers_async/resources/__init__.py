"""Resource namespaces of `LayersClient`, one module per API namespace."""
