"""Pure car-park rules: plates, tariff, lane decisions and the domain types they share. Standard library only."""
