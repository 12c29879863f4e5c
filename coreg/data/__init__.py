"""Package data: the Linux desktop entry and the app icon (``coreg install-desktop``)."""
