"""The one width rule: below this many columns the dashboard uses its narrow layout.

40-column tmux side panes are a first-class target; 80 is where the full table stops fitting.
"""

NARROW_BELOW = 80
