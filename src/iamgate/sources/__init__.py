"""Input readers: one module per input format; each: path -> Inventory."""
