"""The simulated day: plan → fly (simulated nests over MAVLink) → detect → clues → tickets,
measured against the simulated world's ground truth (``nestpatrol sim run``)."""
