"""Simulators for --demo and the tests: Bolink, cameras, display boards, relays."""
