"""Simulated hosts: one dockerd per host in its own network namespace, joined by Docker Swarm.

    from replicator.hosts.lifecycle import hosts_up, hosts_down, hosts_list

`override` (what points an edition's stacks at the hosts, and placement) is kept
free of Docker so that the settings loader can import it cheaply. See docs/hosts.md.
"""
