"""Synthetic scalp photos with exact ground truth.

Two generators: trichoscopy close-ups (hairs of known count, width and colour, follicle
openings, bubbles, blur, lighting) and global photos (known coverage). Every image comes
with its truth, so accuracy and repeatability are measured, not assumed.
"""

# --- Trichoscopy close-ups ---------------------------------------------------------------


# --- Global photos -----------------------------------------------------------------------
