"""Questions written the way people ask them, labelled with the tool and slots they need.

``held_out.py`` was written before the router was changed for issue 12 and is never
tuned on; ``tuning.py`` is what the router may learn from. ``runner.py`` measures both.
"""
