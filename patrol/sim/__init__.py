"""The simulated district used for demos and tests: a ground-truth world that changes over
time (:mod:`patrol.sim.world`, :mod:`patrol.sim.dynamics`), its renderer
(:mod:`patrol.sim.render`), and simulated nests whose vehicles speak MAVLink over UDP
(:mod:`patrol.sim.nests`, :mod:`patrol.sim.mavlink_vehicle`, :mod:`patrol.sim.vehicle`).

Nothing is imported here: the vehicles' child process imports only what it needs.
"""
