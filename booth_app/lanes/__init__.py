"""Lane controllers: a car in, a car out, and every way of paying."""
