"""Pure image functions: numpy arrays in, numpy arrays and dataclasses out."""
