"""Independent letter corpora for the letter pre-screen (issue 14): three generators
(HTML/Chromium, reportlab, Pillow), sigma-lognormal signatures, scans, photos, faxes
and photocopies, with a ground-truth manifest. See README.md; ``html`` is held out."""
