"""Work in progress."""


def default_model_version() -> str:
    return "none"
