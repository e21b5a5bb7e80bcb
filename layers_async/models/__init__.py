"""Response models: frozen, slotted attrs classes, one module per resource."""
