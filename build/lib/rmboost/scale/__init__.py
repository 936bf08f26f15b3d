"""Scale-out: the Ray engine (`ray_engine.py`) and how a run is cut into shards (`shards.py`)."""
