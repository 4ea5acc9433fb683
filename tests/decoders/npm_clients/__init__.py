"""The real npm clients that recorded the Segment and Snowplow fixtures (see README.md)."""
