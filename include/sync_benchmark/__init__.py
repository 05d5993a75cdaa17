"""`make bench`: the sync's throughput, API calls against the floor and peak memory, measured and printed."""
