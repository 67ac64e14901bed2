"""The demo's settings (declared once: core/conf.py; read at call time with `conf.get(NAME)`)."""

from core.conf import FLAG, INTEGER, Setting, Settings

SETTINGS = Settings(
    Setting(
        "DEMO_SHIPPED_MODEL",
        FLAG,
        True,
        "the demo generates at once from the model shipped in generation/demo/ (off: it waits for its fresh run)",
        env=None,
    ),
    Setting(
        "DEMO_TRAINING_STEPS",
        INTEGER,
        800,
        "steps of the fresh run the demo trains in the background to show the pipeline",
        env=None,
    ),
)
get = SETTINGS.get
