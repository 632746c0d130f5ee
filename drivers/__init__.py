"""Hardware protocols that know nothing of the booth app: serial link, display board, barrier, cameras, video."""
