"""splamflow: a fast, faithful implementation of the Splam splice-junction scorer."""

__version__ = "0.1.0"
