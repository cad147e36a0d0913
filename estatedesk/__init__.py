"""EstateDesk: the shared contract, event store and plumbing every service uses."""
