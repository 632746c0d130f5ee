"""The cashier's window. The only package that imports Qt widgets."""
