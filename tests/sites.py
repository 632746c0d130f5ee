"""Pieces of a booth's configuration file for the tests and benchmarks that run the real app on simulators."""


def display_relay_lane(lane: str, direction: str, address: int, board_port: str) -> str:
    """One `[[lanes]]` table: camera `cam-<lane>`, its board at `address` on `board_port`, the gate on the board's
    relay."""
    return f"""
[[lanes]]
id = "{lane}"
name = "车道{lane}"
direction = "{direction}"
[lanes.camera]
serialno = "cam-{lane.lower()}"
[lanes.display]
port = "{board_port}"
address = {address}
[lanes.barrier]
kind = "display_relay"
"""
