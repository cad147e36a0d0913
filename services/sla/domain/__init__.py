"""Service obligations and their clocks. Pure: events in, obligations out, time passed in."""
