"""The case model of the command side. Pure: no I/O, no clock; time arrives as an argument."""
