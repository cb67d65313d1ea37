"""English date formats, as Django's own but naming the zone a time is shown in ("CST", "EDT").

Times render in the viewer's zone (reautomation.viewer_zone); without the zone's name a broker can't
tell a lead's 10 AM from their own.
"""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
