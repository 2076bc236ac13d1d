"""English date formats of the patient site: "5 December 2026", as it read before it spoke Spanish too."""

DATE_FORMAT = "j F Y"
