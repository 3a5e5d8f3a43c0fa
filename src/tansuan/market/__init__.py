"""The carbon market: free allocation (national ETS power benchmark method) and the
compliance position of an entity (forecast emissions vs holdings), rules as data."""
