"""Trichoscopy close-ups: hair segmentation, counting, shaft widths and follicular units.

Pipeline (every length below is physical and converted with the pixel size):

1. Resample to a fixed working scale (``WORKING_PX_PER_MM``; a coarser photo is brought up
   by at most ``MAX_UPSAMPLING``) so cost depends on the field of view, not on megapixels,
   and lengths in working pixels mean the same on every photo; exclude a burned-in caption
   band and burned-in scale-bar lines.
2. Divide by the skin background (:mod:`tracker.imaging.normalize`) and turn the picture
   into a *shaft contrast*: how much darker than skin a pixel is, read along the photo's
   own hair colour (the median darkness direction of its darkest pixels; a blond shaft is
   darker than skin mostly in blue) but never less than the red-green darkness (a grey
   shaft bluer than the skin) nor more than twice it (a yellow dot, no darker in red and
   green, is not a blond shaft); minus the blue excess, so the bluish shadow of the
   shaft under the skin does not read as hair. Only blue excess broader than the widest
   shaft is subtracted: the shadow is a soft band, while a grey or white shaft on fair
   skin is bluish-neutral over its own width only.
3. Subtract the skin mottling (a grey opening wider than two shafts) so thresholds are
   relative to the skin right beside each shaft and the noise floor is not set by the
   mottling (pale blond and grey shafts were lost under it). Hysteresis threshold; blobs
   thicker than any hair (tattoo dot) are cut out and only strong pixels count on the
   rims of bright bubbles. Troughs of the contrast between nearby shafts (a clearly
   positive largest Hessian eigenvalue) are cut from the mask, so shafts of a fan part
   where their profiles part, not only where skin shows between them.
4. Skeleton -> straight segments (split at junctions and sharp bends) -> segments meeting
   head-on at a junction are one hair (a crossing), the rest are separate hairs (touching
   or sharing an opening). Ends left unpaired continue a hair head-on across a gap that
   lies on the mask: the skeleton of a crossing breaks the shafts short of its junctions.
   A second pass finds the thin shafts the mask lost (pale vellus,
   a pixel or two wide, under thresholds set by the dark terminal shafts or in pieces too
   short to keep) as ridges of the contrast at a small Hessian scale, away from the hairs
   already traced and with their modelled contrast taken away (a vellus shaft leaving the
   opening of terminal ones runs along their flanks); those measuring under
   ``THIN_MAX_WIDTH_MM`` and no bluer than ``THIN_MAX_BLUE_OVER_RED`` count as hairs.
5. Width of each hair from its contrast profile across the shaft, sampled every
   ``PROFILE_STEP_PX``: the ratio of integral to peak, with the photo's blur taken from
   the profiles' second moments about their centroids (a low percentile
   over hairs, since a profile running into a neighbour only reads wider), both modelled
   as the profile is measured, cut where it falls below ``PROFILE_CUTOFF`` of its peak.
   Thin shafts: integral over the contrast of the photo's resolved shafts. A trace at least
   ``MERGED_WIDTH_RATIO`` times the typical terminal width reads as that many touching
   shafts for its width.
6. A hair counts when its midpoint lies in the analysed area. Of the hairs cut by the
   border, as many count as are expected to have their midpoint inside, given the
   photo's hair lengths (those showing the longest parts). Each counted trace is one
   hair; the hairs no trace shows (under or merged with another shaft) are estimated from
   the hair the mask shows beyond the traces (``HIDDEN_HAIRS_PER_UNTRACED_SHARE``).
7. Follicular units: counted hairs whose ends meet within ``UNIT_RADIUS_MM`` and that
   leave that point as a fan, within ``UNIT_MAX_FAN_DEG`` of each other.

Known limits (measured in ``benchmarks/trichoscopy_accuracy.py``): thin vellus shafts
lying against terminal shafts of their unit merge into them, dense knots of crossing
hairs and fans of three or more hairs leaving one opening are under-split, the flat top of
a wide shaft sometimes reads as a trough and is traced twice, blond and grey counts
scatter more than dark ones, and shafts lighter than the skin are not seen. On real
shaved scalps the trace runs on into the shaft's shadow under the skin. Hairs longer than
about 1 mm (not clipped) break into pieces where they cross and over-count; such photos
are flagged (``count_issues``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import astuple, dataclass

import cv2
import numpy as np
from scipy import ndimage, special
from scipy.spatial import cKDTree
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import skeletonize

from tracker.imaging.normalize import normalize_illumination
from tracker.measurement import TRICHOSCOPY_FIGURES, Figure, QualityIssue

WORKING_PX_PER_MM = 80.0
MAX_HAIR_WIDTH_MM = 0.13
# Coarser photos are brought up to the working scale (at most this much), so every length
# set in working pixels (Hessian scales, the smallest measurable width) means the same on
# them: measured at their own 64-76 px/mm, the same scalps counted 2-7 hairs fewer than
# at 100 px/mm. Further up, a coarse photo would only cost memory.
MAX_UPSAMPLING = 1.25
MIN_HAIR_LENGTH_MM = 0.15
# A whole hair stands for at most 1 / MIN_WHOLE_CHANCE hairs of its length in the
# photo's length distribution (see _midpoint_inside): one long whole hair in a sparse
# photo must not decide the count of every cut one.
MIN_WHOLE_CHANCE = 0.05
# A cut hair's lengths come from the whole hairs of its kind (vellus or terminal) when at
# least this many show, else from all whole hairs: a distribution of fewer says little
# (not fitted; on the 200-phantom set vellus error 0.047 -> 0.041, see docs/benchmarks.md).
MIN_WHOLE_OF_KIND = 5
UNIT_RADIUS_MM = 0.2
# Where two hairs of a unit leave their opening, the mask holds one stem; its skeleton
# forks where the shafts part, (w1 + w2) / 2 / sin θ from the opening (0.35 mm for two
# 90 µm shafts 15° apart), and the arm from the fork to the sibling's tip is often shorter
# than MIN_HAIR_LENGTH_MM. Such an arm is a hair when it runs off the stem within FAN_MIN_DEG
# to FAN_MAX_DEG, forks at most FAN_MAX_STEM_MM from a free end of the stem's hair and
# points back to that end (its opening) within a shaft's width. On the FDU photos the
# shadow of a shaft under the skin forks off the same way, bluer than the skin: an arm
# whose blue over red reaches FAN_MAX_BLUE_OVER_RED is not kept (FDU MAE 2.44 without the
# test, 2.43 at the thin pass's 0.1, 2.41 at 0.0; the phantoms' count moved 0.004 %).
# Fixed set MAPE 6.18 -> 6.09 %; before the free-end and colour tests, forks up to 45°
# gave 6.07 % against 6.08 % at 35°.
FAN_MIN_DEG = 5.0
FAN_MAX_DEG = 35.0
FAN_MAX_STEM_MM = 0.5
FAN_MAX_BLUE_OVER_RED = 0.0
# Hairs of one unit leave their shared opening as a fan; where a hair's tip touches another
# hair's end, the two run off at any angle. Joining only ends whose hairs leave them within
# this angle of each other took the follicular unit count from MAPE 19.9 % (bias -15.7 %)
# to 10.2 % (+4.6 %) on the fixed phantom set, and from 17.8 % to 10.7 % on the held-out
# one. A right angle bounds a fan of up to four shafts; 60 / 120 degrees gave 10.8 / 11.0
# % on the fixed set.
UNIT_MAX_FAN_DEG = 90.0
TYPICAL_WIDTH_MM = 0.065
# Contrast of a shaft relative to skin: hysteresis seeds and extension, as multiples of
# the pixel noise with these floors (fractions of the skin level).
LOW_CONTRAST_FLOOR = 0.07
HIGH_CONTRAST_FLOOR = 0.16
# On a photo of pale shafts the seed floor is SEED_LEVEL_SHARE of its darkest contrast
# (the 99.5th percentile, where openings and the shadow under the skin often lie), and
# at least SEED_SNR times the noise. At 0.45 and 6 the faint blond shafts beside those
# openings seeded nothing: fixed-set count MAPE 6.32 -> 6.18 % (0.35 and 6: 6.25; 0.3 and
# 6: 6.23; 0.25 and 5: 6.27), held-out 5.97 -> 5.91 %, FDU hairs vs boxes r 0.604 -> 0.614;
# 14 of the 16 photos it changes come closer to the truth (11 of them blond).
SEED_LEVEL_SHARE = 0.3
SEED_SNR = 5.0
# Blue excess (B − R of normalised skin) above this margin is shadow under the skin.
BLUE_MARGIN = 0.04
BLUE_WEIGHT = 1.5
MAX_BEND_DEG = 30.0
MIN_SHAFT_WIDTH_PX = 0.3
MIN_SHAFT_SNR = 4.0
# A trace at least as wide as a typical terminal shaft but fainter than this share of the
# photo's median trace runs over skin (the skeleton bridging the gap where two shafts
# meet; at 0.05 its integral over such a low peak read 15 touching shafts on a re-shot
# phantom, 90 hairs for 72) or along the shadow under the skin beside and behind a
# shaft: an opaque shaft that wide is about as dark as the photo's shafts. Thin traces
# may be that faint (pale vellus under blur), and so may a white shaft on darker skin,
# which is brighter than the skin in blue where a shadow is darker. At 0.3 instead of
# 0.05, count MAPE 5.59 -> 5.47 % on the fixed set and 5.17 -> 4.80 % held out, FDU r
# 0.646 -> 0.654.
MIN_SHAFT_PEAK_SHARE = 0.3
JUNCTION_RADIUS_MM = 0.06
# Unpaired ends up to this far apart continue one hair when they meet head-on, each end
# within the tolerance of the longer piece's line and the gap on the tracing mask: a
# shallow crossing thins to a piece between two junctions and breaks both shafts a few
# pixels short of them, so one hair was counted as 2-4 pieces (a fragment of a matched
# hair made up most extra traces). Over skin the gap is a hair ending where another
# starts, and is not joined.
JOIN_GAP_MM = 0.5
# Across a gap two pieces continue one hair only within this bend of head-on, tighter than
# MAX_BEND_DEG at a junction, where the skeleton runs on from one piece into the other:
# across a gap only their lines tie them, and a hair of another unit starting where one
# ends, 20-30 degrees off its line, was joined to it. With the thin pass's sharp-edge test,
# fixed set count MAPE 5.87 -> 5.67 %, held-out 5.57 -> 5.38 %, FDU hairs vs boxes r 0.634
# -> 0.641, MAE 2.37 -> 2.43 (25 degrees: 5.79 %, 5.41 %, r 0.639, MAE 2.36; 15: 5.69 %,
# r 0.634, MAE 2.49; 25 at junctions as well: 5.69 %, 5.34 %, r 0.633).
GAP_JOIN_MAX_BEND_DEG = 20.0
# A piece shorter than this between two junctions is the overlap of a shallow crossing,
# and the junctions are merged. At 0.25 mm it also deleted the pieces of hairs running
# through a knot between two crossings; with ends joined across gaps, 0.12 mm was chosen on
# the quick set (re-shot CV 3.20 % at 0.25, 3.48 at 0.18, 2.95 at 0.12, 3.10 at 0.09, 3.57
# at 0.06; count MAPE 7.10, 6.62, 6.30, 5.98, 5.88 %) and checked on phantoms 40-79 (MAPE
# 8.82 -> 8.62 %) and the FDU quick set (hairs vs boxes r 0.490 -> 0.528).
BRIDGE_MAX_MM = 0.12
# Pieces of one hair end at most this far apart at a junction: each in its junction's zone,
# a bridge between the two zones of a shallow crossing, and the widest shaft's width
# across (2 × JUNCTION_RADIUS_MM + BRIDGE_MAX_MM + MAX_HAIR_WIDTH_MM). Bridges chained
# through a web of noise ridges merged junctions far apart into one (ends of one node 454
# working px apart), and pieces pointing the same way there were joined: the thin pass read
# specks of ridge over the bare skin of a grey scalp as one 3.3 mm shaft.
MAX_JUNCTION_SPAN_MM = 2 * JUNCTION_RADIUS_MM + BRIDGE_MAX_MM + MAX_HAIR_WIDTH_MM
# Two pieces continue one hair through a junction only if the shorter, turned by the bend
# between them, strays from the longer one's line at its far end by at most this many
# straightness tolerances: at a junction of 3 or more ends pieces of one hair are one
# straight shaft, while a hair ending on another's shaft (or two hairs' ends meeting) bends
# there, and that join lost a hair (on the --quick set about 80 unions of pieces of
# hairs of different units, a third of them at junctions of 3 or more ends). Where 2 ends
# meet (a branch split at a bend) a real hair may curve, and the limit is looser.
# Fitted on --quick (junction / bend limit: count bias -4.28 % with none, -3.91 % at
# 1.5 / 1.5, -2.89 at 0.75 / 0.75, -1.89 at 0.5 / 0.5 but FDU quick r 0.499 -> 0.478,
# -2.64 at 0.5 / 1.5, -2.40 at 0.25 / 1.5 with count MAPE 6.28 against 5.88 %).
JUNCTION_STRAY_TOLERANCES = 0.5
BEND_STRAY_TOLERANCES = 1.5
# A trace this many times the typical terminal width reads as that many touching shafts
# (rounded) for its width. Fitted on the phantom set (--quick: mean width error 6.7 % ->
# 5.8 %): beside a partner, a shaft's profile is cut at PROFILE_CUTOFF and a merged pair
# reads a little under twice a single shaft. Read whole instead, the fixed set's mean
# width error was 7.18 % against 5.12 % (2026.12.30).
MERGED_WIDTH_RATIO = 1.5
# Every trace counts one hair, however wide: on the phantoms a trace read two shafts wide
# or more held 0.70 hair on average and two or more only in 11 % of cases (fitting seeds
# 11, 13, 17 and 19, 2,963 such traces; of those 2.5 wide or more, 65 % held none); earlier
# checks found them where a fan's or a crossing's shafts overlap, or over skin between two.
# The hairs under or merged with another shaft, which no trace shows, lie where the mask
# holds more hair than the traces account for (knots, merged fans): the count is the traced
# hairs times (1 + this times that untraced hair's share of the analysed area, the mask
# less each trace's length × width). Fitted to leave no bias on those seeds
# (``benchmarks/count_fitting.py``), apart from the reported sets: 1.6 on 2026.12.30 (no bias
# at 1.64), 1.8 since its joins across crossings. Against counting a trace as up to two
# touching shafts: fixed set MAPE 5.47 -> 4.80 % (bias -1.25 -> -0.22 %), held-out seed 7
# 4.80 -> 4.17 %, FDU r 0.654 -> 0.660. Scaling by the mask's whole share instead
# over-counted orderly scenes where every hair shows.
HIDDEN_HAIRS_PER_UNTRACED_SHARE = 1.8
# Above this untraced share the photo is flagged: the estimate was fitted on shares up to it
# (the largest of the fitting seeds' 800 photos, 0.070; FDU's largest 0.060), and beyond it
# lie long hairs crossing in heaps, which the engine also breaks into extra pieces (a
# phantom of 1.5-3 mm hairs at 300 /cm² traced 168 for 132, share 0.091, counted 192).
MAX_UNTRACED_SHARE = 0.07
# A photo whose traced hairs run longer than this (their 90th percentile) is flagged: the
# engine was built on hairs 0.4-1.2 mm long (clipped, as for a phototrichogram), and longer
# ones crossing each other break into extra pieces. The fixed set's 200 photos, with the
# same scenes' hairs 1-2 / 1.5-3 mm long (``trichoscopy_accuracy.py --hair-lengths``):
# count bias +0.4 / +17.3 / +41.0 % on every fourth photo, 90th-percentile traced length
# 0.78-1.00 / 1.30-1.66 / 1.57-2.42 mm (5-95 %).
MAX_TRACED_LENGTH_MM = 1.2
# Width profiles are integrated outward from the shaft's centre while they stay above this
# fraction of their peak. Lower cut-offs let skin mottling and noise beside thin, pale
# shafts into the integral (a window that stops at the first dip only ever grows into
# positive noise), which read vellus hairs as terminal. Fitted on the phantom set
# (``benchmarks/trichoscopy_accuracy.py --quick``, before the top-hat clipping: mean
# width error 13.1 % at 0.1, 9.9 % at 0.2, 7.6 % at 0.3).
PROFILE_CUTOFF = 0.3
# Profiles are sampled every PROFILE_STEP_PX (working px) by cubic convolution: at one
# sample a pixel, with linear interpolation, a cut profile's integral and second moment
# depend on where the samples fall, and a 3.2 px shaft under 0.6 px of blur read a blur
# anywhere from 0.2 to 1.4 px (0.55-0.76 px at a quarter pixel).
PROFILE_STEP_PX = 0.25
MIN_PIECE_SAMPLES = 8
# A blurred shaft's cut profile has ratio² / second moment between 8.4 (a line thinner
# than the blur) and 12 (a sharp wide shaft); under this, the moment taken about the
# trace (which runs along a shaft's centre), the profile is no shaft's (the smallest
# 0.1-0.5 % of the phantom hairs' traces, 3-4 % of the traces on no hair). About its own
# centroid, the lopsided shadow under the skin passed as a blurred line.
MIN_PROFILE_SHAPE = 3.0
CAPTION_MAX_FRACTION = 0.12
# Burned-in scale bars and rulers: straight horizontal or vertical dark lines finer than
# GRAPHIC_LINE_MAX_WIDTH_MM (finer than the finest vellus shafts measured; the phantoms'
# are 0.012 mm and up), at least GRAPHIC_LINE_MIN_LENGTH_MM long (hairs crossing an arm
# break it; at 0.5 mm FDU r was 0.610 against 0.613) and GRAPHIC_LINE_MIN_DEPTH grey
# levels darker than the pixels beside them. 46 of the 330 FDU photos carry a 1 mm bar,
# whose arms were counted as 76 hairs on 37 of them.
GRAPHIC_LINE_MAX_WIDTH_MM = 0.008
GRAPHIC_LINE_MIN_LENGTH_MM = 0.25
GRAPHIC_LINE_MIN_DEPTH = 40
# Measuring software draws circles and lines in red onto the photo (84 of the 330 FDU
# photos carry a red measuring circle, and those read 0.4 hair a photo more than the
# rest). A drawn stroke is finer than GRAPHIC_LINE_MAX_WIDTH_MM, of a red or magenta hue
# (DRAWN_MARK_HUES_DEG) that neither skin nor hair has, strongly saturated
# (DRAWN_MARK_MIN_SATURATION of its brightest channel, DRAWN_MARK_MIN_CHROMA grey levels)
# and DRAWN_MARK_MIN_RISE more saturated than what lies beside it. Painted over from its
# surroundings it leaves the hairs it crosses whole: excluded instead, it cut them in two
# (FDU r 0.614 -> 0.591). Blue hues are left alone: with 150-300° added (the blue caption
# text beside FDU's circles), r 0.624 and MAE 2.44 against 0.630 and 2.41 (engine 2026.12.25).
DRAWN_MARK_HUES_DEG = ((300.0, 360.0), (0.0, 10.0))
DRAWN_MARK_MIN_SATURATION = 0.5
DRAWN_MARK_MIN_CHROMA = 80
DRAWN_MARK_MIN_RISE = 0.25
# The photo's blur is a low percentile of the σ each hair's profile implies: a profile
# running into a neighbouring shaft or a shadow only ever reads wider. The median read
# 4.8 px on a soft FDU photo whose shafts then measured 0 px wide (and were dropped):
# 25 was chosen on the FDU quick set (hairs vs boxes r 0.47 at 25, 0.44 at 40) at a cost
# in vellus fraction error on the phantom quick set (0.074 at 25, 0.067 at 40).
BLUR_PERCENTILE = 25.0
# A paler shaft than the photo's resolved ones (a white shaft among pigmented grey ones)
# measures thin by its integral over their contrast; its own profile tells its width when
# that reads RESOLVED_MIN_WIDTH_MM or more (narrower, the linear sampling of a thin shaft
# inflates the ratio) and its edges are no softer than SHARP_EDGE_BLUR_RATIO times the
# photo's blur (a shadow's are). Chosen on the phantom quick set by how many found hairs
# each rule put in the wrong class (terminal as vellus / vellus as terminal, 102 / 23
# without it): 0.03 mm 30 / 68, 0.045 mm 46 / 25, 0.055 mm 62 / 24 at ratio 2; ratio
# 1.5 / 3 at 0.045 mm 55 / 23 and 42 / 28.
RESOLVED_MIN_WIDTH_MM = 0.045
SHARP_EDGE_BLUR_RATIO = 2.0
# Troughs between nearby shafts: Hessian scale (working px) and the least depth, as a
# share of the darkest shaft around, that cuts the tracing mask. Fitted on the 40-phantom
# quick set (count MAPE 10.4 % uncut; 7.9-8.2 % at depth 0.1-0.2 and scale 1.0; 7.6 % at
# 0.2 and 1.5; deeper cuts 0.3 gave 10.0 %) and checked on phantoms 40-79.
VALLEY_SCALE_PX = 1.5
VALLEY_DEPTH = 0.2
# Share of the analysed pixels, the darkest in red and green, whose colour gives the
# photo's hair-colour direction (shafts cover a few percent of a close-up).
HAIR_COLOUR_SHARE = 0.01
# Second pass for thin shafts (vellus) the first pass left out: ridges of the contrast at
# this Hessian scale (working px), traced with hysteresis at these multiples of the
# ridge response's noise, away from the traced hairs (their width plus this clearance on
# each side) and bubble rims. A new trace is a thin shaft when it measures narrower than
# THIN_MAX_WIDTH_MM, its flanks THIN_FLANK_MM to either side hold less than THIN_FLANK_SHARE
# of its contrast (not the edge of a wide shaft, a yellow dot or a shadow) and its contrast
# is THIN_MIN_SNR times the pixel noise (skin creases on real photos are fainter).
# Fitted on the 40-phantom quick set (vellus fraction error 0.072 -> 0.066, count MAPE
# 7.15 -> 6.23 %) and checked on phantoms 40-79 (0.087 -> 0.080, 9.60 -> 9.29 %);
# THIN_MIN_SNR 4 -> 8 cut the new traces on the 330 FDU photos (shaved scalps, where they
# were mostly skin creases) from 0.47 to 0.26 a photo, at 0.001 in vellus error.
THIN_RIDGE_SCALE_PX = 1.0
THIN_RIDGE_SNR = (3.0, 6.0)
THIN_CLEARANCE_MM = 0.03
THIN_MAX_WIDTH_MM = 0.03
THIN_FLANK_MM = 0.05
THIN_FLANK_SHARE = 0.5
THIN_MIN_SNR = 8.0
# A thin trace must also have a shaft's edges (_HairProfiles.sharp_edged): the soft band
# of a shaft's shadow under the skin, fading behind its opening, is thin by its low
# integral, and its ridge was traced (231 of the 665 thin traces of the fixed set matched
# no hair on 2026.12.26, most in photos of strong shadow). Fixed-set count MAPE 5.98 ->
# 5.87 %, held-out 5.74 -> 5.57 %, FDU hairs vs boxes r 0.632 -> 0.634, MAE 2.41 -> 2.37
# (edges up to 1.5 / 3 times the blur: 5.90 / 5.86 %, MAE 2.35 / 2.40). Some faint vellus
# profiles read soft too: with GAP_JOIN_MAX_BEND_DEG, vellus fraction error 0.038 -> 0.039
# on the fixed set, 0.039 -> 0.041 held out (0.040 at 3 times the blur).
# A thin trace whose colour along it has blue above red by this share of its brightest
# channel is no hair: hair and skin are red-brown to neutral, and on the 200-phantom set
# (white balance within ±15 % a channel) no thin shaft's trace read over 0.03; blue
# strokes two pixels wide drawn into a photo read 0.30-0.35.
THIN_MAX_BLUE_OVER_RED = 0.1
# A ridge may reach into the clearance band down to THIN_CORE_CLEARANCE_MM from a traced
# shaft (a vellus shaft leaving its unit's opening beside terminal ones spends its first
# stretch there), when it rises above the high threshold outside the band and at least
# THIN_OUTSIDE_SHARE of its trace lies outside it (along a traced shaft's flank a ridge is
# the shaft model's misfit). On the 200-phantom set count MAPE 7.16 -> 7.00 %, bias -1.26
# -> -0.54 %, vellus fraction error 0.053 -> 0.049, re-shot CV 2.77 -> 2.87 %; without
# the share, on phantoms 40-79, half the new traces were doubles or on no hair.
THIN_CORE_CLEARANCE_MM = 0.015
THIN_OUTSIDE_SHARE = 0.3
# Third pass for white and grey shafts on warm skin, which both darkness passes lose (on
# type III skin a white shaft is hardly darker than the skin around it): the part of the
# blue excess (B - R beyond BLUE_MARGIN, normalised) narrower than the widest shaft, kept
# where it is at least PALE_NARROW_SHARE of all blue excess there (the broad shadow of a
# shaft under the skin keeps less), traced with hysteresis at these multiples of the
# blue-minus-red noise (and at least PALE_MIN_EXCESS) away from the traced hairs. A trace
# is a white shaft when, along it, the darkness (1 - the mean normalised channel) is under
# PALE_MAX_DARKNESS_SHARE of the blue excess (a shadow darkens more than it turns blue),
# and the pixels are near neutral: saturation under PALE_MAX_SATURATION and at least
# PALE_SATURATION_DROP below the skin's beside them (burned-in blue text and coloured
# graphic lines are saturated), and when it does not carry on a traced hair past its end.
# Fitted on the 200-phantom set (count MAPE 6.78 -> 6.49 %, grey hair on type III skin
# 14.8 -> 5.9 %), checked on the held-out seed-7 set (6.40 -> 6.24 %) and the 330 FDU
# photos (0.1 more hairs a photo; before the two colour tests the pass traced the
# measurement text of the overlay photos, 1.3 more).
PALE_NARROW_SHARE = 0.5
PALE_SNR = (3.0, 6.0)
PALE_MIN_EXCESS = (0.03, 0.06)
PALE_MAX_DARKNESS_SHARE = 0.3
PALE_MAX_SATURATION = 0.3
PALE_SATURATION_DROP = 0.1
# Fourth pass, for pale blond shafts on warm skin: as light as the skin in red and green,
# they are yellow against it (blue below red and green in the normalised photo), and the
# shaft contrast, capped at twice the red-green darkness so that yellow sebum dots stay
# out, reads them faintly; the photo's hair colour is taken from its darkest pixels,
# which in a blond photo with shadows under the skin are the shadows and openings. Where
# the traced hairs' median blue deficit ((R + G) / 2 - B) is at least
# YELLOW_MIN_HAIR_DEFICIT (fixed set: blond 0.14-0.25, brown 0.09-0.13, dark and grey
# under 0.04; one of the 330 FDU photos reaches 0.15), its narrow part is traced as the
# pale pass traces blue excess (same thresholds); a trace is a shaft when its darkness
# (1 - the mean normalised channel) is at least YELLOW_MIN_DARKNESS_SHARE of its blue
# deficit (a sebum dot: 0.27). Run on every photo, it traced colour fringes beside dark
# shafts (fixed set count bias +19 %, +11 % with the darkness test); gated at 0.05 it ran
# on brown phantoms (no better) and on the FDU photos (hairs vs boxes r 0.641 -> 0.612).
# At 0.15: fixed set count MAPE 5.67 -> 5.59 %, held-out 5.38 -> 5.17 %, blond hair
# 7.3 -> 6.7 % (bias -3.6 -> -1.8 %).
YELLOW_MIN_HAIR_DEFICIT = 0.15
YELLOW_MIN_DARKNESS_SHARE = 0.5
# Fifth pass for shafts hidden in a dark mass of overlapping ones (a tight fan of one
# unit, a knot of several): the skeleton follows the other shafts, and one between them is
# left untraced (on 2026.12.25, 366 of the fixed set's 600 hairs no trace touched lay in
# the mask, as dark as any counted shaft). The mask is traced again without what the traces
# so far cover: each drawn over its width, or over the mask's own width along it where
# that is more (a stub's dark mass reads wider than its profile's width, and its two edges
# were traced as hairs on FDU), plus KNOT_MARGIN_PX; what is left is opened by
# KNOT_OPENING_MM (slivers along the drawn edges). A piece of at least KNOT_MIN_LENGTH_MM
# with a shaft's profile, at least KNOT_MIN_PEAK_SHARE of the first pass's median peak,
# is a hair.
KNOT_MARGIN_PX = 2
KNOT_OPENING_MM = 0.02
KNOT_MIN_LENGTH_MM = 0.3
KNOT_MIN_PEAK_SHARE = 0.5


@dataclass(frozen=True)
class TracedHair:
    """One hair found in the photo, in input-image pixels ((x, y), y down).

    ``start_px``/``end_px`` are its visible ends, ``width_um`` its shaft width (None
    without calibration; a trace as wide as touching shafts is read per shaft), ``vellus``
    whether it is narrower than the vellus threshold (None without calibration), ``unit``
    the index of its follicular unit in ``TrichoscopyResult.unit_centres_px`` and
    ``counted`` whether it enters the figures (as one hair).
    """

    start_px: tuple[float, float]
    end_px: tuple[float, float]
    length_px: float
    width_px: float
    width_um: float | None
    vellus: bool | None
    unit: int
    counted: bool


@dataclass(frozen=True)
class TrichoscopyResult:
    """Figures and geometry measured on one trichoscopy photo.

    ``figures`` holds exactly ``TRICHOSCOPY_FIGURES``; ``widths_um`` the widths of the
    counted hairs (empty without calibration); ``analysed_rows`` the (first, stop) input
    rows that were measured (a caption band is outside them); ``untraced_share`` the share
    (0-1) of them where the hair mask shows more hair than the traces account for, from
    which the hairs no trace shows are estimated (``hair_figures``); ``long_length_mm`` the
    90th percentile of the counted hairs' traced lengths (0 without any; at the estimated
    scale without calibration).
    """

    figures: dict[str, Figure]
    widths_um: tuple[float, ...]
    hairs: tuple[TracedHair, ...]
    unit_centres_px: tuple[tuple[float, float], ...]
    analysed_rows: tuple[int, int]
    px_per_mm: float | None
    untraced_share: float
    long_length_mm: float


@dataclass(frozen=True)
class _Segment:
    start: np.ndarray  # (x, y) working pixels
    end: np.ndarray
    start_node: int  # -1 when the end is free
    end_node: int

    @functools.cached_property
    def length(self) -> float:
        return float(np.hypot(*(self.end - self.start)))


@dataclass(frozen=True)
class _WorkingView:
    """A photo resampled to the working scale, with its shaft contrast and mask."""

    zoom: float  # working px per input px
    px_per_mm: float  # working px per mm (estimated when uncalibrated)
    input_px_per_mm: float
    analysed: np.ndarray  # (h, w) bool, working px
    analysed_px: int  # analysed input pixels
    analysed_rows: tuple[int, int]
    colour: np.ndarray  # (h, w, 3) the photo at the working scale
    normalised: np.ndarray  # (h, w, 3) float32, skin ≈ 1 (normalize_illumination)
    contrast: np.ndarray  # (h, w) float32
    shafts: np.ndarray  # (h, w) bool: hair, touching shafts merged
    mask: np.ndarray  # (h, w) bool: ``shafts`` less the valleys between touching shafts
    pixel_noise: float  # σ of the contrast's pixel-to-pixel noise

    @functools.cached_property
    def inner(self) -> np.ndarray:
        """(h, w) bool: analysed pixels at least ``2 × THIN_CLEARANCE_MM`` inside the
        analysed area, whose edge (a caption band's border) reads as a line."""
        disc = _disc(2 * THIN_CLEARANCE_MM * self.px_per_mm)
        return cv2.erode(self.analysed.astype(np.uint8), disc) > 0

    @functools.cached_property
    def blue_over_red(self) -> np.ndarray:
        """(h, w) float32: blue minus red over the brightest channel of ``colour``, for
        the fan and thin passes' colour tests."""
        brightest, _ = _brightest_and_darkest(self.colour)
        divisor = np.maximum(brightest, 1).astype(np.float32)
        return (self.colour[..., 2].astype(np.float32) - self.colour[..., 0]) / divisor

    @functools.cached_property
    def darkness(self) -> np.ndarray:
        """(h, w) float32: 1 − the mean normalised channel, for the colour passes' tests."""
        return (1.0 - self.normalised.mean(axis=2)).astype(np.float32)


def _working_view(
    rgb: np.ndarray, *, px_per_mm: float | None, exclude_mask: np.ndarray | None
) -> _WorkingView:
    image = np.asarray(rgb)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    height, width = image.shape[:2]
    scale_px_per_mm = px_per_mm if px_per_mm is not None else _estimate_px_per_mm(image)
    marks = drawn_mark_mask(image, px_per_mm=scale_px_per_mm)
    if marks.any():
        image = cv2.inpaint(
            np.ascontiguousarray(image),
            marks.astype(np.uint8),
            _drawn_line_width_px(scale_px_per_mm),
            cv2.INPAINT_TELEA,
        )
    first_row, stop_row = caption_free_rows(image)
    analysed = np.zeros((height, width), dtype=bool)
    analysed[first_row:stop_row] = True
    analysed &= ~graphic_line_mask(image, px_per_mm=scale_px_per_mm)
    if exclude_mask is not None:
        analysed &= ~np.asarray(exclude_mask, dtype=bool)

    zoom = min(WORKING_PX_PER_MM / scale_px_per_mm, MAX_UPSAMPLING)
    work_px_per_mm = scale_px_per_mm * zoom
    work_size = (max(1, round(width * zoom)), max(1, round(height * zoom)))
    work = (
        cv2.resize(image, work_size, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_CUBIC)
        if zoom != 1
        else image
    )
    work_analysed = (
        cv2.resize(analysed.astype(np.uint8), work_size, interpolation=cv2.INTER_NEAREST) > 0
    )
    if not work_analysed.all() and work_analysed.any():
        # Excluded pixels (caption, marker) would bend the skin estimate near their edge.
        work = work.copy()
        work[~work_analysed] = np.median(work[work_analysed], axis=0).astype(work.dtype)
    normalised = normalize_illumination(
        work,
        hair_width_px=2 * MAX_HAIR_WIDTH_MM * work_px_per_mm,
        smoothing_px=0.5 * work_px_per_mm,
    )
    contrast = shaft_contrast(
        normalised,
        shaft_width_px=MAX_HAIR_WIDTH_MM * work_px_per_mm,
        hair_direction=hair_colour_direction(normalised, work_analysed),
    )
    shafts = _segment_shafts(contrast, normalised, work_analysed, px_per_mm=work_px_per_mm)
    pixel_noise = _pixel_noise(contrast, work_analysed)
    return _WorkingView(
        zoom=zoom,
        px_per_mm=work_px_per_mm,
        input_px_per_mm=scale_px_per_mm,
        analysed=work_analysed,
        analysed_px=int(analysed.sum()),
        analysed_rows=(first_row, stop_row),
        colour=work,
        normalised=normalised,
        contrast=contrast,
        shafts=shafts,
        mask=shafts & ~_valleys(contrast, px_per_mm=work_px_per_mm),
        pixel_noise=pixel_noise,
    )


def _pixel_noise(image: np.ndarray, analysed: np.ndarray) -> float:
    """σ of the pixel-to-pixel noise of ``image`` (H, W) over ``analysed`` (H, W) bool: the
    robust spread of what a 1.5 px Gaussian smooths away; 0 without analysed pixels."""
    fine_detail = (image - cv2.GaussianBlur(image, (0, 0), 1.5))[analysed]
    return 1.4826 * float(np.median(np.abs(fine_detail))) if fine_detail.size else 0.0


def segment_hairs(
    rgb: np.ndarray, *, px_per_mm: float | None, exclude_mask: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) bool mask of hair shafts in ``rgb`` (H, W, 3), as :func:`measure_trichoscopy`
    sees them (same caption handling and scale rules)."""
    view = _working_view(rgb, px_per_mm=px_per_mm, exclude_mask=exclude_mask)
    shafts = view.mask & _above_half_maximum(view.contrast, px_per_mm=view.px_per_mm)
    height, width = np.asarray(rgb).shape[:2]
    return cv2.resize(shafts.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0


def _above_half_maximum(contrast: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """Pixels at least half as dark as the darkest shaft pixel around them: the shaft's
    own width, without the blur around it that the lenient tracing mask keeps."""
    local_peak = cv2.dilate(contrast, _disc(MAX_HAIR_WIDTH_MM * px_per_mm))
    return contrast >= 0.5 * local_peak


def measure_trichoscopy(
    rgb: np.ndarray,
    *,
    px_per_mm: float | None,
    vellus_threshold_um: float = 30.0,
    exclude_mask: np.ndarray | None = None,
) -> TrichoscopyResult:
    """Count hairs, measure their widths and group them into follicular units.

    ``rgb`` is an (H, W, 3) uint8 dermatoscope photo; ``px_per_mm`` its pixel size, or
    None when unknown. ``exclude_mask`` (H, W) bool marks pixels that are not scalp (a
    ruler, a marker); a caption band at the top or bottom is found and excluded anyway.

    Without calibration the engine still counts hairs and units: it estimates a working
    scale from the typical shaft width in pixels (assuming ``TYPICAL_WIDTH_MM``) for its
    internal lengths only, and reports ``area_cm2``, ``density_per_cm2``,
    ``mean_width_um``, ``vellus_count``, ``terminal_count`` and ``vellus_fraction`` as
    None, because a width threshold in pixels says nothing about microns.
    """
    view = _working_view(rgb, px_per_mm=px_per_mm, exclude_mask=exclude_mask)
    work_px_per_mm = view.px_per_mm
    groups = _traced_groups(view.mask, px_per_mm=work_px_per_mm, shafts=view.shafts)
    least_length_px = MIN_HAIR_LENGTH_MM * work_px_per_mm
    # A piece too short for a hair, from a junction to a free tip, may be all that shows of
    # a sibling beside its unit's stem (see _fan_siblings).
    forks = [
        group[0]
        for group in groups
        if len(group) == 1
        and _path_length(group) < least_length_px
        and (group[0].start_node > 0) != (group[0].end_node > 0)
    ]
    groups = [g for g in groups if _path_length(g) >= least_length_px]
    profiles = _hair_profiles(view.contrast, groups, px_per_mm=work_px_per_mm)
    widths_px, peaks = _profile_widths_px(profiles, px_per_mm=work_px_per_mm)
    # A trace with no shaft across it (a bubble rim fragment), one no darker than the
    # noise along most of its length (a chain of noise on dark skin), or one as wide as a
    # shaft but far paler than the photo's shafts and no brighter than the skin in blue
    # (skin between two shafts, the shadow under the skin), is no hair.
    median_peak = float(np.median(peaks)) if peaks else 0.0
    faint = MIN_SHAFT_PEAK_SHARE * median_peak
    wide = TYPICAL_WIDTH_MM * work_px_per_mm
    shaft_like = [
        width >= MIN_SHAFT_WIDTH_PX
        and peak >= MIN_SHAFT_SNR * view.pixel_noise
        and (peak >= faint or width < wide or _median_along(view.normalised[..., 2], group) >= 1.0)
        for group, width, peak in zip(groups, widths_px, peaks, strict=True)
    ]
    groups = [g for g, keep in zip(groups, shaft_like, strict=True) if keep]
    widths_px = [w for w, keep in zip(widths_px, shaft_like, strict=True) if keep]
    shafts_wide = _side_by_side_shafts(widths_px)
    shaft_profiles = profiles.of(np.flatnonzero(shaft_like))
    sibling_groups, sibling_widths_px, shaft_profiles = _fan_siblings(
        view, forks, groups, widths_px, profiles=shaft_profiles
    )
    groups += sibling_groups
    widths_px += sibling_widths_px
    shafts_wide += [1] * len(sibling_groups)
    thin_groups, thin_widths_px = _thin_shafts(view, groups, widths_px, profiles=shaft_profiles)
    groups += thin_groups
    widths_px += thin_widths_px
    blur_px = _photo_blur_px(shaft_profiles)
    pale_groups, pale_widths_px = _pale_shafts(view, groups, widths_px, blur_px=blur_px)
    groups += pale_groups
    widths_px += pale_widths_px
    yellow_groups, yellow_widths_px = _yellow_shafts(view, groups, widths_px, blur_px=blur_px)
    groups += yellow_groups
    widths_px += yellow_widths_px
    knot_groups, knot_widths_px = _knot_shafts(
        view, groups, widths_px, profiles=shaft_profiles, median_peak=median_peak
    )
    groups += knot_groups
    widths_px += knot_widths_px
    shafts_wide += [1] * (
        len(thin_groups) + len(pale_groups) + len(yellow_groups) + len(knot_groups)
    )
    ends = [_farthest_ends(group) for group in groups]
    lengths = [_path_length(group) for group in groups]
    cut = _cut_by_border(ends, view.analysed)
    calibrated = px_per_mm is not None
    shaft_widths_px = [width / n_wide for width, n_wide in zip(widths_px, shafts_wide, strict=True)]
    shaft_widths_um: list[float | None]
    is_vellus: list[bool] | None
    if calibrated:
        shaft_widths_um = [width / work_px_per_mm * 1000.0 for width in shaft_widths_px]
        is_vellus = [bool(width < vellus_threshold_um) for width in shaft_widths_um]
    else:
        shaft_widths_um, is_vellus = [None] * len(shaft_widths_px), None
    counted = _midpoint_inside(
        ends, lengths, cut, frame_px=_bounding_size(view.analysed), is_vellus=is_vellus
    )
    units = _follicular_units(
        [e for e, c in zip(ends, counted, strict=True) if c],
        radius_px=UNIT_RADIUS_MM * work_px_per_mm,
    )
    unit_of = iter(units)

    to_input = 1.0 / view.zoom
    hairs = []
    vellus_flags = is_vellus if is_vellus is not None else [None] * len(shaft_widths_px)
    for (start, end), length, shaft_width_px, width_um, vellus, is_counted in zip(
        ends, lengths, shaft_widths_px, shaft_widths_um, vellus_flags, counted, strict=True
    ):
        hairs.append(
            TracedHair(
                start_px=(float(start[0] * to_input), float(start[1] * to_input)),
                end_px=(float(end[0] * to_input), float(end[1] * to_input)),
                length_px=float(length * to_input),
                width_px=float(shaft_width_px * to_input),
                width_um=None if width_um is None else float(width_um),
                vellus=vellus,
                unit=next(unit_of) if is_counted else -1,
                counted=bool(is_counted),
            )
        )
    counted_hairs = [h for h in hairs if h.counted]
    area_cm2 = view.analysed_px / view.input_px_per_mm**2 / 100.0 if calibrated else None
    untraced_share = _untraced_share(view, lengths, widths_px)
    return TrichoscopyResult(
        figures=hair_figures(counted_hairs, area_cm2=area_cm2, untraced_share=untraced_share),
        widths_um=tuple(h.width_um for h in counted_hairs if h.width_um is not None),
        hairs=tuple(hairs),
        unit_centres_px=_unit_centres(counted_hairs),
        analysed_rows=view.analysed_rows,
        px_per_mm=px_per_mm,
        untraced_share=untraced_share,
        long_length_mm=_long_length_mm(lengths, counted, px_per_mm=work_px_per_mm),
    )


def _untraced_share(view: _WorkingView, lengths_px: list[float], widths_px: list[float]) -> float:
    """Share (0-1) of ``view``'s analysed area where its mask shows hair beyond the traces'
    own area (each trace's length × width, working px; those at the border too): knots and
    merged shafts, where the hairs no trace shows lie."""
    traced_px = sum(length * width for length, width in zip(lengths_px, widths_px, strict=True))
    mask_px = np.count_nonzero(view.mask & view.analysed)
    return float(max(0.0, mask_px - traced_px) / max(np.count_nonzero(view.analysed), 1))


def _long_length_mm(lengths_px: list[float], counted: list[bool], *, px_per_mm: float) -> float:
    """90th percentile (mm) of the counted traces' ``lengths_px`` at ``px_per_mm``; 0 if none."""
    counted_px = [length for length, keep in zip(lengths_px, counted, strict=True) if keep]
    return float(np.percentile(counted_px, 90)) / px_per_mm if counted_px else 0.0


def _traced_groups(
    mask: np.ndarray, *, px_per_mm: float, shafts: np.ndarray | None = None
) -> list[list[_Segment]]:
    """The hairs' paths through ``mask`` (H, W) bool at ``px_per_mm``: its skeleton's
    segments, joined across crossings and gaps. ``shafts`` (H, W) bool, the mask before
    the valley cuts, lets a gap join cross another hair (see ``_join_crossings``)."""
    return _join_crossings(
        _trace_segments(mask, px_per_mm=px_per_mm),
        mask=mask,
        crossing_mask=shafts,
        max_gap_px=JOIN_GAP_MM * px_per_mm,
        tolerance_px=max(1.5, 0.03 * px_per_mm),
        max_junction_span_px=MAX_JUNCTION_SPAN_MM * px_per_mm,
        junction_radius_px=JUNCTION_RADIUS_MM * px_per_mm,
    )


def _knot_shafts(
    view: _WorkingView,
    groups: list[list[_Segment]],
    widths_px: list[float],
    *,
    profiles: _HairProfiles,
    median_peak: float,
) -> tuple[list[list[_Segment]], list[float]]:
    """Traces and widths (working px) of shafts in the mask that no trace of ``groups``
    (with ``widths_px``) covers, as in knots of overlapping hairs (see ``KNOT_*``).
    ``profiles`` are the first pass's hairs' (the photo's blur for the widths) and
    ``median_peak`` their median peak contrast."""
    px_per_mm = view.px_per_mm
    mask_half_width = cv2.distanceTransform(view.mask.astype(np.uint8), cv2.DIST_L2, 3)
    covered_widths_px = [
        max(width, 2 * median)
        for median, width in zip(_medians_along(mask_half_width, groups), widths_px, strict=True)
    ]
    covered = _bands_around(view.mask.shape, groups, covered_widths_px, KNOT_MARGIN_PX / 2)
    opening = np.ones((max(1, round(KNOT_OPENING_MM * px_per_mm)),) * 2, dtype=np.uint8)
    left = cv2.morphologyEx((view.mask & (covered == 0)).astype(np.uint8), cv2.MORPH_OPEN, opening)
    knots = [
        group
        for group in _traced_groups(left > 0, px_per_mm=px_per_mm)
        if _path_length(group) >= KNOT_MIN_LENGTH_MM * px_per_mm
    ]
    if not knots:
        return [], []
    knot_profiles = _hair_profiles(view.contrast, knots, px_per_mm=px_per_mm)
    widths, peaks = _profile_widths_px(profiles.and_then(knot_profiles), px_per_mm=px_per_mm)
    least_peak = max(MIN_SHAFT_SNR * view.pixel_noise, KNOT_MIN_PEAK_SHARE * median_peak)
    kept = [
        (group, width)
        for group, width, peak in zip(
            knots, widths[len(profiles.peak) :], peaks[len(profiles.peak) :], strict=True
        )
        if width >= MIN_SHAFT_WIDTH_PX and peak >= least_peak
    ]
    return [group for group, _ in kept], [width for _, width in kept]


def _fan_siblings(
    view: _WorkingView,
    forks: list[_Segment],
    groups: list[list[_Segment]],
    widths_px: list[float],
    *,
    profiles: _HairProfiles,
) -> tuple[list[list[_Segment]], list[float], _HairProfiles]:
    """Hairs of a unit that show only where they part from a sibling's stem.

    ``forks`` are pieces too short for a hair, each from a junction to a free tip;
    ``groups`` the first pass's hairs (``widths_px`` wide, with their ``profiles``). A
    fork that fans out of one of them (:func:`_fan_opening`) and is a shaft by its own
    profile, no bluer than ``FAN_MAX_BLUE_OVER_RED``, is a hair from that opening to its
    tip. Returns those hairs (the stem's stretch, then the fork), their widths (working
    px, read on the fork alone) and ``profiles`` followed by theirs.
    """
    if not forks:
        return [], [], profiles
    openings = _hair_openings(groups, widths_px)
    fans = []
    for fork in forks:
        junction, tip = (fork.start, fork.end) if fork.start_node > 0 else (fork.end, fork.start)
        opening = _fan_opening(junction, tip, openings, px_per_mm=view.px_per_mm)
        if opening is not None:
            fans.append((fork, opening, junction, tip))
    if not fans:
        return [], [], profiles
    arms = [[fork] for fork, *_ in fans]
    all_profiles = profiles.and_then(_hair_profiles(view.contrast, arms, px_per_mm=view.px_per_mm))
    widths, peaks = _profile_widths_px(all_profiles, px_per_mm=view.px_per_mm)
    first = len(groups)
    kept = [
        index
        for index, arm in enumerate(arms)
        if widths[first + index] >= MIN_SHAFT_WIDTH_PX
        and peaks[first + index] >= MIN_SHAFT_SNR * view.pixel_noise
        and _median_along(view.blue_over_red, arm) < FAN_MAX_BLUE_OVER_RED
    ]
    siblings = []
    for index in kept:
        fork, opening, junction, tip = fans[index]
        node = max(fork.start_node, fork.end_node)
        siblings.append([_Segment(opening, junction, -1, node), _Segment(junction, tip, node, -1)])
    return (
        siblings,
        [widths[first + index] for index in kept],
        all_profiles.of(np.r_[np.arange(first), first + np.asarray(kept, dtype=int)]),
    )


@dataclass(frozen=True)
class _Openings:
    """Where hairs may leave their openings: per such end (a free end among a hair's two
    farthest ends), ``at`` that end and ``far`` the hair's other end, (M, 2) working px
    each, and ``width_px`` (M,) the hair's width."""

    at: np.ndarray
    far: np.ndarray
    width_px: np.ndarray


def _hair_openings(groups: list[list[_Segment]], widths_px: list[float]) -> _Openings:
    """The :class:`_Openings` of ``groups`` (``widths_px`` wide), hair by hair."""
    rows = []
    for group, width in zip(groups, widths_px, strict=True):
        start, end = _farthest_ends(group)
        free_ends = [
            point
            for segment in group
            for point, node in (
                (segment.start, segment.start_node),
                (segment.end, segment.end_node),
            )
            if node <= 0
        ]
        rows.extend(
            (opening, far, width)
            for opening, far in ((start, end), (end, start))
            if any(np.hypot(*(opening - point)) <= 1.0 for point in free_ends)
        )
    if not rows:
        return _Openings(np.empty((0, 2)), np.empty((0, 2)), np.empty(0))
    at, far, width = zip(*rows, strict=True)
    return _Openings(np.array(at, float), np.array(far, float), np.array(width, float))


def _fan_opening(
    junction: np.ndarray, tip: np.ndarray, openings: _Openings, *, px_per_mm: float
) -> np.ndarray | None:
    """The opening ((x, y) working px) a fork from ``junction`` to ``tip`` fans out of, or
    None. The fork must lie on a hair past that hair's opening by more than a junction zone
    and at most ``FAN_MAX_STEM_MM``, run off it within ``FAN_MIN_DEG`` to ``FAN_MAX_DEG``,
    point back to the opening within the hair's width, and make a hair of the least length
    from there. The nearest such opening to the fork's line wins (the first of equals)."""
    direction = (tip - junction) / float(np.hypot(*(tip - junction)))
    least_cos, most_cos = np.cos(np.radians([FAN_MAX_DEG, FAN_MIN_DEG]))
    junction_px = JUNCTION_RADIUS_MM * px_per_mm
    reach = openings.far - openings.at
    stem_length = np.hypot(reach[:, 0], reach[:, 1])
    axis = np.divide(
        reach, stem_length[:, None], out=np.zeros_like(reach), where=stem_length[:, None] > 0
    )
    stem = junction - openings.at
    along = stem[:, 0] * axis[:, 0] + stem[:, 1] * axis[:, 1]
    aside = np.abs(axis[:, 0] * stem[:, 1] - axis[:, 1] * stem[:, 0])
    turn_cos = direction[0] * axis[:, 0] + direction[1] * axis[:, 1]
    behind = openings.at - junction
    offset = np.abs(direction[0] * behind[:, 1] - direction[1] * behind[:, 0])
    fits = (
        (stem_length > 0)
        & (junction_px <= along)
        & (along <= np.minimum(stem_length, FAN_MAX_STEM_MM * px_per_mm))
        & (aside <= 0.5 * openings.width_px + junction_px)
        & (least_cos <= turn_cos)
        & (turn_cos <= most_cos)
        & (behind[:, 0] * direction[0] + behind[:, 1] * direction[1] <= 0)
        & (offset <= np.maximum(openings.width_px, 2.0))
        & (
            np.hypot(tip[0] - openings.at[:, 0], tip[1] - openings.at[:, 1])
            >= MIN_HAIR_LENGTH_MM * px_per_mm
        )
    )
    if not fits.any():
        return None
    return openings.at[np.flatnonzero(fits)[np.argmin(offset[fits])]]


def _thin_shafts(
    view: _WorkingView,
    groups: list[list[_Segment]],
    widths_px: list[float],
    *,
    profiles: _HairProfiles,
) -> tuple[list[list[_Segment]], list[float]]:
    """Traces and widths (working px) of thin shafts away from the hairs in ``groups``.

    At the working scale a vellus shaft is one or two pixels wide and pale; the lenient
    first-pass mask loses it under its thresholds or in pieces too short to keep. A small
    Hessian scale matches such a line and integrates along it, so it stands out of the
    pixel noise where the thresholded contrast does not. ``groups`` (with ``widths_px``
    and their ``profiles``) are the first pass's hairs: what lies on them is theirs, and
    the contrast they account for (:func:`_shaft_model`) is taken away before the ridges
    are found, traced and measured. A ridge must show outside a clearance band around
    them (``THIN_CLEARANCE_MM``) and may then reach into it.
    """
    px_per_mm = view.px_per_mm
    claimed = _bands_around(view.mask.shape, groups, widths_px, THIN_CLEARANCE_MM * px_per_mm)
    core = _bands_around(view.mask.shape, groups, widths_px, THIN_CORE_CLEARANCE_MM * px_per_mm)
    # The traced shafts' own contrast is taken away first: a vellus shaft leaving the
    # opening of terminal ones lies on their flanks, where it read as their edge.
    blur_px = _photo_blur_px(profiles)
    model = _shaft_model(view.contrast.shape, groups, widths_px, profiles.peak, blur_px=blur_px)
    # Where the model is darker than the photo it takes away only what is there: an
    # over-wide model must not leave a bright band whose edge reads as a ridge.
    contrast = view.contrast - np.minimum(model, np.maximum(view.contrast, 0.0))
    # A dark line is a ridge of the contrast: its smallest Hessian eigenvalue is negative.
    ridge = -_hessian_eigenvalues(contrast, sigma_px=THIN_RIDGE_SCALE_PX)[0]
    # Every fourth analysed pixel gives the noise as well, at a quarter of the cost.
    values = ridge[view.analysed][::4]
    if values.size == 0:
        return [], []
    noise = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    low, high = THIN_RIDGE_SNR[0] * noise, THIN_RIDGE_SNR[1] * noise
    # Bubble rims are thin dark rings around bright gel (negative contrast).
    bright = cv2.GaussianBlur(view.contrast, (0, 0), 1.0) < -max(0.04, 2 * view.pixel_noise)
    rims = cv2.dilate(bright.astype(np.uint8), _disc(0.12 * px_per_mm)) > 0
    candidate = view.inner & (core == 0) & ~rims & (ridge > low)
    # A ridge is kept when it rises above ``high`` somewhere outside the clearance band.
    thin = _hysteresis_traces(
        candidate, candidate & (ridge > high) & (claimed == 0), px_per_mm=px_per_mm
    )
    thin = [
        group
        for group in thin
        if _flank_share(contrast, group, px_per_mm=px_per_mm, claimed=claimed) < THIN_FLANK_SHARE
        and _share_outside(claimed, group) >= THIN_OUTSIDE_SHARE
    ]
    # Hair over skin moves the pixel towards the hair's colour, red-brown to neutral: a
    # line bluer than red is drawn (burned-in blue text and marks).
    thin = [g for g in thin if _median_along(view.blue_over_red, g) < THIN_MAX_BLUE_OVER_RED]
    if not thin:
        return [], []
    # Measured with the first pass's hairs, which set the photo's blur and shaft contrast.
    thin_profiles = _hair_profiles(contrast, thin, px_per_mm=px_per_mm)
    all_profiles = profiles.and_then(thin_profiles)
    all_widths, peaks = _profile_widths_px(all_profiles, px_per_mm=px_per_mm)
    # Whether a trace is thin is judged by its contrast beside the photo's shafts: a white
    # shaft the first pass left out passes, then is measured by its own edges.
    thin_widths, _ = _profile_widths_px(all_profiles, px_per_mm=px_per_mm, by_own_edges=False)
    kept = [
        (group, width)
        for group, width, thin_width, peak, sharp in zip(
            thin,
            all_widths[len(groups) :],
            thin_widths[len(groups) :],
            peaks[len(groups) :],
            thin_profiles.sharp_edged(blur_px),
            strict=True,
        )
        if MIN_SHAFT_WIDTH_PX <= thin_width < THIN_MAX_WIDTH_MM * px_per_mm
        and peak >= THIN_MIN_SNR * view.pixel_noise
        and sharp
    ]
    return [group for group, _ in kept], [width for _, width in kept]


def _bands_around(
    shape: tuple[int, ...],
    groups: list[list[_Segment]],
    widths_px: list[float],
    clearance_px: float,
) -> np.ndarray:
    """(H, W) uint8, 1 within ``clearance_px`` beyond the shafts of ``groups`` (each as wide
    as its ``widths_px``, working px)."""
    band = np.zeros(shape[:2], np.uint8)
    for group, width in zip(groups, widths_px, strict=True):
        for segment in group:
            start = (round(float(segment.start[0])), round(float(segment.start[1])))
            end = (round(float(segment.end[0])), round(float(segment.end[1])))
            cv2.line(band, start, end, 1, max(1, round(width + 2 * clearance_px)))
    return band


def _hysteresis_traces(
    candidate: np.ndarray, strong: np.ndarray, *, px_per_mm: float
) -> list[list[_Segment]]:
    """Hairs traced on the 8-connected regions of ``candidate`` (H, W) bool that hold a
    ``strong`` pixel, at least ``MIN_HAIR_LENGTH_MM`` long. Most regions are specks of noise
    and texture: those spanning less than a straight hair of the least length would (its
    length / √2) cannot hold one, and tracing them cost the most."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate.astype(np.uint8), 8)
    seeded = np.bincount(labels[candidate & strong], minlength=count) > 0
    spans = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = seeded & (spans >= MIN_HAIR_LENGTH_MM * px_per_mm / np.sqrt(2) - 1)
    keep[0] = False
    groups = _join_crossings(
        _trace_segments(keep[labels], px_per_mm=px_per_mm),
        max_junction_span_px=MAX_JUNCTION_SPAN_MM * px_per_mm,
    )
    return [g for g in groups if _path_length(g) >= MIN_HAIR_LENGTH_MM * px_per_mm]


def _pale_shafts(
    view: _WorkingView, groups: list[list[_Segment]], widths_px: list[float], *, blur_px: float
) -> tuple[list[list[_Segment]], list[float]]:
    """Traces and widths (working px) of white or grey shafts away from the hairs in
    ``groups`` (``widths_px`` wide), measured under the photo's blur σ ``blur_px``.

    Over warm skin a white or grey shaft turns the pixel towards neutral grey: against the
    skin it is bluer (blue over red rises in the normalised photo), little darker, and no
    more coloured than grey. The shadow of a shaft under the skin is bluer too, but broad
    and darker; burned-in text and graphics are saturated. See ``PALE_*``.
    """
    px_per_mm = view.px_per_mm
    red, blue = view.normalised[..., 0], view.normalised[..., 2]
    blue_minus_red = (blue - red).astype(np.float32)

    # Only photos with traces to test pay for the saturation images.
    @functools.cache
    def saturations() -> tuple[np.ndarray, np.ndarray]:
        brightest, darkest = _brightest_and_darkest(view.colour)
        divisor = np.maximum(brightest, 1).astype(np.float32)
        saturation = (brightest - darkest).astype(np.float32) / divisor
        skin_saturation = cv2.GaussianBlur(
            cv2.morphologyEx(saturation, cv2.MORPH_CLOSE, _disc(2 * MAX_HAIR_WIDTH_MM * px_per_mm)),
            (0, 0),
            0.25 * px_per_mm,
        )
        return saturation, skin_saturation

    def white_or_grey(group: list[_Segment]) -> bool:
        if _median_along(view.darkness, group) >= PALE_MAX_DARKNESS_SHARE * _median_along(
            blue_minus_red, group
        ):
            return False
        saturation, skin_saturation = saturations()
        return _median_along(saturation, group) < min(
            PALE_MAX_SATURATION, _median_along(skin_saturation, group) - PALE_SATURATION_DROP
        )

    return _shafts_of_colour(
        view,
        groups,
        widths_px,
        excess=_blue_excess(view.normalised),
        noise=_pixel_noise(blue_minus_red, view.analysed),
        blur_px=blur_px,
        of_hair_colour=white_or_grey,
    )


def _yellow_shafts(
    view: _WorkingView, groups: list[list[_Segment]], widths_px: list[float], *, blur_px: float
) -> tuple[list[list[_Segment]], list[float]]:
    """Traces and widths (working px) of blond shafts away from the hairs in ``groups``
    (``widths_px`` wide), measured under the photo's blur σ ``blur_px``, in a photo whose
    hairs are blond.

    A pale blond shaft is hardly darker than warm skin in red and green; against the skin it
    is yellow (blue falls below red and green in the normalised photo), which the shaft
    contrast, capped by the red-green darkness to keep yellow dots out, reads faintly. Where
    the traced hairs are that yellow (``YELLOW_MIN_HAIR_DEFICIT``) the narrow part of the
    blue deficit is traced like the pale pass's blue excess; a trace is a shaft when it is
    darker than the skin by at least ``YELLOW_MIN_DARKNESS_SHARE`` of its blue deficit (a
    yellow sebum dot loses blue and little else). See ``YELLOW_*``.
    """
    red, green, blue = (view.normalised[..., channel] for channel in range(3))
    blue_deficit = ((red + green) / 2 - blue).astype(np.float32)
    if (
        not groups
        or float(np.median(_medians_along(blue_deficit, groups))) < YELLOW_MIN_HAIR_DEFICIT
    ):
        return [], []

    def darker_than_skin(group: list[_Segment]) -> bool:
        return _median_along(view.darkness, group) >= YELLOW_MIN_DARKNESS_SHARE * _median_along(
            blue_deficit, group
        )

    return _shafts_of_colour(
        view,
        groups,
        widths_px,
        excess=np.maximum(blue_deficit, 0.0),
        noise=_pixel_noise(blue_deficit, view.analysed),
        blur_px=blur_px,
        of_hair_colour=darker_than_skin,
    )


def _shafts_of_colour(
    view: _WorkingView,
    groups: list[list[_Segment]],
    widths_px: list[float],
    *,
    excess: np.ndarray,
    noise: float,
    blur_px: float,
    of_hair_colour: Callable[[list[_Segment]], bool],
) -> tuple[list[list[_Segment]], list[float]]:
    """Shafts that show as a colour ``excess`` (H, W) float32 over the skin rather than as
    darkness, away from the hairs in ``groups`` (``widths_px`` wide): the part of the excess
    narrower than the widest shaft, where it is at least ``PALE_NARROW_SHARE`` of all the
    excess there, traced with hysteresis at ``PALE_SNR`` times ``noise`` (at least
    ``PALE_MIN_EXCESS``). A trace is kept when its flanks hold less than
    ``THIN_FLANK_SHARE`` of it, ``of_hair_colour`` accepts it, it does not carry a traced
    hair on past its end (the first pass may have traced part of the same shaft) and its
    profile is a shaft's. Returns the traces and their widths (working px) under the
    photo's blur σ ``blur_px``."""
    px_per_mm = view.px_per_mm
    narrow = excess - cv2.morphologyEx(excess, cv2.MORPH_OPEN, _disc(MAX_HAIR_WIDTH_MM * px_per_mm))
    narrow = np.where(narrow > PALE_NARROW_SHARE * excess, narrow, 0.0).astype(np.float32)
    narrow = cv2.GaussianBlur(narrow, (0, 0), 0.7)
    low, high = (
        max(snr * noise, floor) for snr, floor in zip(PALE_SNR, PALE_MIN_EXCESS, strict=True)
    )
    claimed = _bands_around(view.mask.shape, groups, widths_px, THIN_CLEARANCE_MM * px_per_mm)
    candidate = view.inner & (claimed == 0) & (narrow > low)
    found = _hysteresis_traces(candidate, narrow > high, px_per_mm=px_per_mm)
    hair_ends = [_farthest_ends(group) for group in groups]
    found = [
        group
        for group in found
        if _flank_share(narrow, group, px_per_mm=px_per_mm, claimed=claimed) < THIN_FLANK_SHARE
        and of_hair_colour(group)
        and not _continues_a_hair(
            _farthest_ends(group),
            hair_ends,
            max_gap_px=JOIN_GAP_MM * px_per_mm,
            tolerance_px=0.5 * MAX_HAIR_WIDTH_MM * px_per_mm,
        )
    ]
    if not found:
        return [], []
    profiles = _hair_profiles(narrow, found, px_per_mm=px_per_mm)
    widths = _width_from_ratio(profiles.ratio, blur_px)
    kept = [
        (group, float(width))
        for group, width, shaped in zip(found, widths, profiles.shaft_shaped, strict=True)
        if shaped and width >= MIN_SHAFT_WIDTH_PX
    ]
    return [group for group, _ in kept], [width for _, width in kept]


def _brightest_and_darkest(colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The brightest and the darkest channel, (H, W) each, of ``colour`` (H, W, 3) uint8.
    Taken channel by channel on 8 bits: on a 1280 × 960 working view a float copy and its
    maximum over channels took 49 ms, and 91 ms with the minimum, against 5 and 4 ms."""
    red, green, blue = (colour[..., channel] for channel in range(3))
    return np.maximum(np.maximum(red, green), blue), np.minimum(np.minimum(red, green), blue)


def _continues_a_hair(
    ends: tuple[np.ndarray, np.ndarray],
    hair_ends: list[tuple[np.ndarray, np.ndarray]],
    *,
    max_gap_px: float,
    tolerance_px: float,
) -> bool:
    """Whether a trace with ``ends`` ((x, y) working px) carries on one of the hairs with
    ``hair_ends`` beyond its end: within ``MAX_BEND_DEG`` of its line, wholly past the same
    end, its nearer end at most ``max_gap_px`` ahead and ``tolerance_px`` to the side. A
    shaft leaving the same opening at a fan's angle lies beside the hair, not past it."""
    start, end = ends
    length = float(np.hypot(*(end - start)))
    if length == 0:
        return False
    direction = (end - start) / length
    cos_limit = np.cos(np.radians(MAX_BEND_DEG))
    for hair_start, hair_end in hair_ends:
        hair_length = float(np.hypot(*(hair_end - hair_start)))
        if hair_length == 0:
            continue
        axis = (hair_end - hair_start) / hair_length
        if abs(float(direction @ axis)) < cos_limit:
            continue
        along = np.array([float((point - hair_start) @ axis) for point in ends])
        if (along > hair_length).all():
            ahead, tip = float(along.min() - hair_length), hair_end
        elif (along < 0).all():
            ahead, tip = float(-along.max()), hair_start
        else:
            continue
        nearer = min(ends, key=lambda point: float(np.hypot(*(point - tip))))
        side = abs(float(axis[0] * (nearer - tip)[1] - axis[1] * (nearer - tip)[0]))
        if ahead <= max_gap_px and side <= tolerance_px:
            return True
    return False


def _median_along(image: np.ndarray, group: list[_Segment]) -> float:
    """Median of ``image`` (H, W) sampled one working px apart along ``group``."""
    return float(_medians_along(image, [group])[0])


def _medians_along(image: np.ndarray, groups: list[list[_Segment]]) -> np.ndarray:
    """Per group, (G,) float64: the median of ``image`` (H, W) sampled one working px apart
    along it, bilinearly, each segment from its start to its end inclusive (in
    ``image``'s precision). One sampling and one sort for all groups."""
    if not groups:
        return np.empty(0)
    segments = [segment for group in groups for segment in group]
    samples = np.array([max(2, int(segment.length)) for segment in segments])
    starts = np.array([segment.start for segment in segments], dtype=float)
    ends = np.array([segment.end for segment in segments], dtype=float)
    first = np.cumsum(samples) - samples
    of_segment = np.repeat(np.arange(len(segments)), samples)
    # As np.linspace: index × step + start, the last sample exactly at the end.
    index = (np.arange(samples.sum()) - first[of_segment]).astype(float)[:, None]
    points = index * ((ends - starts) / (samples - 1)[:, None])[of_segment] + starts[of_segment]
    points[first + samples - 1] = ends
    values = ndimage.map_coordinates(image, (points[:, 1], points[:, 0]), order=1)
    segment_counts = np.array([len(group) for group in groups])
    counts = np.add.reduceat(samples, np.cumsum(segment_counts) - segment_counts)
    ordered = values[np.lexsort((values, np.repeat(np.arange(len(groups)), counts)))]
    group_start = np.cumsum(counts) - counts
    # As np.median: the middle value, or the mean of the middle two (x + x) / 2 = x.
    middle = (ordered[group_start + (counts - 1) // 2] + ordered[group_start + counts // 2]) / 2
    return middle.astype(float)


def _shaft_model(
    shape: tuple[int, ...],
    groups: list[list[_Segment]],
    widths_px: list[float],
    peaks: np.ndarray,
    *,
    blur_px: float,
) -> np.ndarray:
    """(H, W) float32 contrast the traced hairs alone would give: each segment a shaft of
    its hair's width (working px) and peak contrast, blurred by ``blur_px``; where shafts
    overlap, the darker."""
    model = np.zeros(shape[:2], np.float32)
    blur = max(blur_px, 0.3)
    step_px = 1 / 16
    for group, width, peak in zip(groups, widths_px, peaks, strict=True):
        half = width / 2
        reach = half + 3 * blur
        across = np.arange(0.0, reach + step_px, step_px)
        edges = special.erf((across + half) / (np.sqrt(2) * blur)) - special.erf(
            (across - half) / (np.sqrt(2) * blur)
        )
        table = (peak / max(edges[0], 1e-3) * edges).astype(np.float32)
        table[-1] = 0.0
        for segment in group:
            if segment.length < 1:
                continue
            direction = (segment.end - segment.start) / segment.length
            normal = np.array([-direction[1], direction[0]])
            low = np.maximum(np.floor(np.minimum(segment.start, segment.end) - reach), 0)
            high = np.minimum(
                np.ceil(np.maximum(segment.start, segment.end) + reach) + 1, (shape[1], shape[0])
            )
            if (high <= low).any():
                continue
            xs = np.arange(low[0], high[0]) - segment.start[0]
            ys = np.arange(low[1], high[1]) - segment.start[1]
            along = ys[:, None] * direction[1] + xs[None, :] * direction[0]
            distance = np.abs(ys[:, None] * normal[1] + xs[None, :] * normal[0])
            index = np.minimum((distance / step_px).astype(np.intp), table.size - 1)
            index[(along < 0) | (along > segment.length)] = table.size - 1
            window = model[int(low[1]) : int(high[1]), int(low[0]) : int(high[0])]
            np.maximum(window, table[index], out=window)
    return model


def _flank_share(
    contrast: np.ndarray, group: list[_Segment], *, px_per_mm: float, claimed: np.ndarray
) -> float:
    """Median along ``group`` of the darker flank's contrast, beside the trace, as a share
    of the contrast on it: about 0 for a thin shaft, about 1 along the edge of a wide one.
    A flank on ``claimed`` (H, W, nonzero on the traced hairs' bands) does not count: it
    lies on a traced shaft, whose contrast is accounted for."""
    reach = THIN_FLANK_MM * px_per_mm
    values = []
    for segment in group:
        if segment.length < 1:
            continue
        direction = (segment.end - segment.start) / segment.length
        normal = np.array([-direction[1], direction[0]])
        steps = np.arange(0.5, segment.length, 1.0)
        centre = segment.start + steps[:, None] * direction
        points = np.stack([centre, centre + reach * normal, centre - reach * normal])
        coordinates = (points[..., 1], points[..., 0])
        sampled = ndimage.map_coordinates(contrast, coordinates, order=1, mode="nearest")
        on_claimed = ndimage.map_coordinates(claimed, coordinates, order=0, mode="nearest") > 0
        flanks = np.where(on_claimed[1:], 0.0, sampled[1:])
        values.append(np.maximum(flanks[0], flanks[1]) / np.maximum(sampled[0], 1e-6))
    return float(np.median(np.concatenate(values))) if values else 1.0


def _share_outside(mask: np.ndarray, group: list[_Segment]) -> float:
    """Share of the points along ``group``, one per working px, off ``mask`` (H, W)."""
    on_mask = np.concatenate([_mask_along(mask, s.start, s.end) for s in group])
    return 1.0 - float(np.count_nonzero(on_mask)) / on_mask.size


def _side_by_side_shafts(widths_px: list[float]) -> list[int]:
    """How many shafts wide each trace reads, for its shaft width.

    Hairs of one unit often leave the opening touching along their whole length and
    segment as one trace of about twice the width. A trace at least
    ``MERGED_WIDTH_RATIO`` times as wide as the typical terminal shaft (median of those
    wider than half the 90th-percentile width) reads as that many shafts.
    """
    widths = np.asarray(widths_px, dtype=float)
    if widths.size == 0:
        return []
    terminal = widths[widths >= 0.5 * np.percentile(widths, 90)]
    typical = float(np.median(terminal))
    if typical <= 0:
        return [1] * len(widths)
    ratio = widths / typical
    return [int(max(1, round(r))) if r >= MERGED_WIDTH_RATIO else 1 for r in ratio]


def caption_free_rows(
    rgb: np.ndarray, *, max_fraction: float = CAPTION_MAX_FRACTION
) -> tuple[int, int]:
    """(first, stop) rows of ``rgb`` (H, W, 3) left after dropping caption bands.

    A burned-in caption is a flat grey or black fill behind its text: within its rows a
    large share of pixels is neutral and of one grey level, which skin (never neutral, and
    textured) is not, and the rows beyond it are clearly less so. Bands start
    within a few rows of the top or bottom edge and reach at most ``max_fraction`` of the
    frame; five extra rows are dropped for JPEG ringing and blur.
    """
    height, width = rgb.shape[:2]
    reach = max(1, int(height * max_fraction))
    # The shares are per row: about a thousand columns estimate them as well as all of a
    # 12-megapixel frame's, at a quarter of the cost.
    step = max(1, -(-width // 1024))
    top = _caption_band_rows(np.asarray(rgb[:reach, ::step]))
    bottom = _caption_band_rows(np.asarray(rgb[::-1][:reach, ::step]))
    return min(top, height), max(height - bottom, min(top, height))


def _caption_band_rows(rows: np.ndarray) -> int:
    """How many rows, from the first row of ``rows`` inward, belong to a caption band."""
    # A band starts within the first nine rows, so those alone rule out most frames; past
    # this test the first caption row is one of them (the shares are per row).
    if not (_modal_grey_share(rows[:9]) >= 0.2).any():
        return 0
    share = _modal_grey_share(rows)
    caption = np.flatnonzero(share >= 0.2)
    last = _end_of_run(caption)
    if last + 12 > share.size:
        # Pale, nearly neutral skin reaches the 0.2 floor too, and the rows ran on to the
        # search limit. A plain strip (no text: nearly every pixel one grey, which such
        # skin never reaches) is still found; it was kept as scalp.
        plain = np.flatnonzero(share >= 0.9)
        if plain.size == 0 or plain[0] != caption[0]:
            return 0
        last = _end_of_run(plain)
        if last + 12 > share.size or np.median(share[last + 4 : last + 12]) >= 0.8:
            return 0
        return last + 6 if last >= 3 else 0
    band = share[caption[0] : last + 1]
    beyond = share[last + 4 : last + 12]
    if last < 3 or np.median(beyond) >= 0.6 * np.median(band):
        return 0
    return int(last) + 6


def _drawn_line_width_px(px_per_mm: float) -> int:
    """The widest drawn line (``GRAPHIC_LINE_MAX_WIDTH_MM``) in whole pixels at ``px_per_mm``."""
    return int(GRAPHIC_LINE_MAX_WIDTH_MM * px_per_mm)


def graphic_line_mask(rgb: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """(H, W) bool: burned-in horizontal and vertical lines (a scale bar, a ruler) in
    ``rgb`` (H, W, 3) uint8 of ``px_per_mm``, with a margin of their width on each side.

    A drawn line is exactly horizontal or vertical and finer than any hair shaft
    (``GRAPHIC_LINE_MAX_WIDTH_MM``). Only photos fine enough to draw such a line at least
    two pixels wide are searched: on coarser ones a line a pixel or two wide is as wide as
    a vellus shaft there, and cannot be told from one.
    """
    height, width = rgb.shape[:2]
    max_width_px = _drawn_line_width_px(px_per_mm)
    if max_width_px < 2:
        return np.zeros((height, width), dtype=bool)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    length_px = round(GRAPHIC_LINE_MIN_LENGTH_MM * px_per_mm)
    # A closing across the line fills what is narrower than its element; the element is
    # odd so that it is symmetric (an even one reads the edge of a wide shaft as a line).
    element_px = max_width_px | 1
    lines = np.zeros((height, width), dtype=np.uint8)
    for across, along in (((1, element_px), (length_px, 1)), ((element_px, 1), (1, length_px))):
        fine = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, np.ones(across, np.uint8))
        dark = (fine >= GRAPHIC_LINE_MIN_DEPTH).astype(np.uint8)
        # Most photos hold no line: the long opening, most of the cost, is then skipped.
        if cv2.countNonZero(dark) >= length_px:
            lines |= cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones(along, np.uint8))
    return cv2.dilate(lines, _disc(2 * max_width_px + 1)) > 0


def drawn_mark_mask(rgb: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """(H, W) bool: thin red or magenta strokes drawn onto ``rgb`` (H, W, 3) uint8 of
    ``px_per_mm`` (a measuring circle, a marked line), grown by a stroke's width.

    Only photos fine enough to draw a stroke at least two pixels wide are searched, as for
    :func:`graphic_line_mask`. See ``DRAWN_MARK_*``.
    """
    height, width = rgb.shape[:2]
    stroke_px = _drawn_line_width_px(px_per_mm)
    if stroke_px < 2:
        return np.zeros((height, width), dtype=bool)
    # In OpenCV's full-range HSV the hue runs 0-255 around the circle, the saturation is
    # chroma over the brightest channel (0-255) and the value is that channel.
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV_FULL)
    least_saturation = round(255 * DRAWN_MARK_MIN_SATURATION)
    candidate = np.zeros((height, width), dtype=np.uint8)
    for low_deg, high_deg in DRAWN_MARK_HUES_DEG:
        low = (round(low_deg * 256 / 360), least_saturation, DRAWN_MARK_MIN_CHROMA)
        high = (min(round(high_deg * 256 / 360) - 1, 255), 255, 255)
        candidate |= cv2.inRange(hsv, low, high)
    # Most photos hold no drawn mark: the rest, most of the cost, is then skipped.
    if not cv2.countNonZero(candidate):
        return candidate > 0
    saturation, brightest = hsv[..., 1], hsv[..., 2]
    chroma = saturation.astype(np.float32) * brightest / 255.0
    candidate = (candidate > 0) & (chroma >= DRAWN_MARK_MIN_CHROMA)
    # An opening wider than a stroke takes it away: what it takes is the stroke's rise.
    beside = cv2.morphologyEx(saturation, cv2.MORPH_OPEN, _disc(3 * stroke_px))
    rise = saturation.astype(np.int16) - beside
    strokes = candidate & (rise >= 255 * DRAWN_MARK_MIN_RISE)
    return cv2.dilate(strokes.astype(np.uint8), np.ones((stroke_px, stroke_px), np.uint8)) > 0


def _end_of_run(rows: np.ndarray) -> int:
    """Last of the sorted row indices ``rows`` reached from the first by gaps of ≤ 3."""
    last = rows[0]
    for index in rows[1:]:
        if index - last > 3:
            break
        last = index
    return int(last)


def _modal_grey_share(rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows`` (N, W, 3) uint8: the share of its pixels that are neutral and of
    the row's most common grey level among neutral pixels (16 levels)."""
    pixels = rows.astype(np.int16)
    chroma = pixels.max(axis=2) - pixels.min(axis=2)
    grey_level = pixels.mean(axis=2).astype(np.int16) >> 4
    neutral = chroma <= 18
    # One histogram of (row, level) pairs gives every row's mode at once.
    row_level = np.arange(len(rows))[:, None] * 16 + grey_level
    counts = np.bincount(row_level[neutral], minlength=16 * len(rows)).reshape(-1, 16)
    modal = counts.argmax(axis=1)
    return (neutral & (grey_level == modal[:, None])).mean(axis=1)


def shaft_contrast(
    normalised: np.ndarray,
    *,
    shaft_width_px: float | None = None,
    hair_direction: np.ndarray | None = None,
) -> np.ndarray:
    """How much darker than bare skin each pixel is, as a fraction of the skin level.

    ``normalised`` is the (H, W, 3) output of :func:`normalize_illumination` (skin ≈ 1), so
    a pixel's darkness is the vector ``1 − normalised`` (R, G, B). Without
    ``hair_direction`` darkness is read in red and green only, so yellow sebum dots (which
    lose blue) do not look dark. With ``hair_direction`` (a unit RGB vector, see
    :func:`hair_colour_direction`) it is the darkness along the photo's own hair colour,
    scaled so a neutral shaft reads its mean darkness: a blond shaft, darker than skin
    mostly in blue, then reads about twice its red-green darkness. It is capped at twice
    the red-green darkness, which keeps a yellow dot (no darker in red and green) from
    reading as a blond shaft.
    In both cases ``BLUE_WEIGHT`` × the blue excess (B − R beyond ``BLUE_MARGIN``) is
    subtracted: light scattered back from a shaft still under the skin is bluish, a shaft
    on the surface is not.
    With ``shaft_width_px`` (the widest shaft, in pixels) only blue excess broader than
    that is subtracted: the shadow under the skin is a soft band wider than its shaft,
    while a grey or white shaft on fair skin is bluish-neutral only over its own width.
    Returns (H, W) float32: ≈ 0 on skin, up to ≈ 1 on a black shaft, < 0 on bright spots.
    """
    red, green = normalised[..., 0], normalised[..., 1]
    blue_excess = _blue_excess(normalised)
    if shaft_width_px is not None:
        blue_excess = cv2.morphologyEx(blue_excess, cv2.MORPH_OPEN, _disc(shaft_width_px))
    red_green = 1.0 - (red + green) / 2
    if hair_direction is None:
        darkness = red_green
    else:
        weights = np.asarray(hair_direction, dtype=np.float32) * float(np.sum(hair_direction)) / 3
        along = float(weights.sum()) - normalised @ weights
        darkness = np.maximum(red_green, np.minimum(along, 2.0 * red_green))
    return (darkness - BLUE_WEIGHT * blue_excess).astype(np.float32)


def _blue_excess(normalised: np.ndarray) -> np.ndarray:
    """(H, W) float32: how far blue exceeds red in the normalised (H, W, 3) photo beyond
    ``BLUE_MARGIN``, 0 where it does not."""
    return np.maximum(normalised[..., 2] - normalised[..., 0] - BLUE_MARGIN, 0.0).astype(np.float32)


def hair_colour_direction(normalised: np.ndarray, analysed: np.ndarray) -> np.ndarray:
    """Unit RGB vector of the photo's hair darkness (``1 − normalised``) direction.

    ``normalised`` (H, W, 3) is skin-normalised, ``analysed`` (H, W) bool the pixels to use.
    The darkness of a shaft, partly covering or blurred into skin, keeps the direction of
    its colour relative to the skin, so the clearly darker pixels (top
    ``HAIR_COLOUR_SHARE`` by red-green darkness, and at least ``LOW_CONTRAST_FLOOR``) give
    it. Neutral (dark hair) when there are too few of them.
    """
    neutral = np.full(3, 1 / np.sqrt(3), dtype=np.float32)
    if np.count_nonzero(analysed) < 100:
        return neutral
    # Red-green darkness over the whole frame, then one channel picked: picking the three
    # channels of every analysed pixel costs ten times more.
    red_green_image = ((1.0 - normalised[..., 0]) + (1.0 - normalised[..., 1])) / 2
    red_green = red_green_image[analysed]
    level = max(float(np.quantile(red_green, 1 - HAIR_COLOUR_SHARE)), LOW_CONTRAST_FLOOR)
    dark = 1.0 - normalised[analysed & (red_green_image >= level)]
    if dark.shape[0] < 50:
        return neutral
    direction = np.median(dark / np.linalg.norm(dark, axis=1, keepdims=True), axis=0)
    direction = np.maximum(direction, 0.0)
    norm = float(np.linalg.norm(direction))
    return (direction / norm).astype(np.float32) if norm > 0 else neutral


def _disc(diameter_px: float) -> np.ndarray:
    size = max(3, round(diameter_px) | 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _segment_shafts(
    contrast: np.ndarray, normalised: np.ndarray, analysed: np.ndarray, *, px_per_mm: float
) -> np.ndarray:
    """Boolean (H, W) mask of hair shafts in working pixels, touching shafts merged."""
    smooth = cv2.GaussianBlur(contrast, (0, 0), 0.7)
    # Skin mottling a few shaft widths across survives the illumination normalisation and
    # would set the noise floor high enough to lose pale (blond, grey, vellus) shafts. A
    # grey opening wider than two shafts keeps only that mottling; thresholds then apply
    # to the shafts' contrast over the skin right around them. Bright spots (bubbles,
    # glare) are clipped to skin level first, or the skin between two of them would stand
    # out like a shaft.
    smooth = smooth - cv2.morphologyEx(
        np.maximum(smooth, 0.0), cv2.MORPH_OPEN, _disc(2 * MAX_HAIR_WIDTH_MM * px_per_mm)
    )
    values = smooth[analysed] if analysed.any() else smooth.ravel()
    noise = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    # Pale shafts (blond, grey) lower the floors in proportion to the photo's darkest
    # shafts, never below the noise.
    shaft_level = float(np.percentile(values, 99.5))
    low = max(min(LOW_CONTRAST_FLOOR, 0.2 * shaft_level), 3.0 * noise)
    high = max(min(HIGH_CONTRAST_FLOOR, SEED_LEVEL_SHARE * shaft_level), SEED_SNR * noise)
    candidate = smooth > low
    # Bubble rims are thin dark rings around bright gel: there only strong pixels count.
    brightness = cv2.GaussianBlur(normalised.mean(axis=2), (0, 0), 1.0)
    bright = brightness > 1.0 + max(0.04, 2 * noise)
    rim_zone = cv2.dilate(bright.astype(np.uint8), _disc(0.12 * px_per_mm)) > 0
    candidate &= ~rim_zone | (smooth > high)
    candidate &= analysed
    mask = apply_hysteresis_threshold(np.where(candidate, smooth, 0.0), low, high)
    # Anything a disc wider than two side-by-side shafts fits into is not hair (tattoo dot).
    thick = cv2.morphologyEx(
        mask.astype(np.uint8), cv2.MORPH_OPEN, _disc(2 * MAX_HAIR_WIDTH_MM * px_per_mm)
    )
    mask &= cv2.dilate(thick, _disc(3)) == 0
    return mask | _small_holes(mask, max_area_px=(0.05 * px_per_mm) ** 2)


def _small_holes(mask: np.ndarray, *, max_area_px: float) -> np.ndarray:
    """(H, W) bool: the holes of ``mask`` (H, W) bool, stretches of background that do
    not reach the frame's edge through 4-connected pixels, of under ``max_area_px``."""
    height, width = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (~mask).astype(np.uint8), connectivity=4
    )
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right = left + stats[:, cv2.CC_STAT_WIDTH]
    bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
    enclosed = (left > 0) & (top > 0) & (right < width) & (bottom < height)
    # Label 0 is the mask itself.
    small = enclosed & (stats[:, cv2.CC_STAT_AREA] < max_area_px) & (np.arange(count) > 0)
    return small[labels]


def _valleys(contrast: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """(H, W) bool: pixels in a trough of the contrast between two nearby shafts.

    Where two shafts run close, the lenient threshold joins them; the contrast still dips
    between them (its largest Hessian eigenvalue is clearly positive there, measured at
    ``VALLEY_SCALE_PX`` against the darkest shaft around). Cutting those troughs lets the
    skeleton branch where the shafts part, not only where skin shows between them.
    """
    largest = _hessian_eigenvalues(contrast, sigma_px=VALLEY_SCALE_PX)[1]
    local_peak = np.maximum(cv2.dilate(contrast, _disc(MAX_HAIR_WIDTH_MM * px_per_mm)), 1e-3)
    return largest > VALLEY_DEPTH * local_peak


def _hessian_eigenvalues(image: np.ndarray, *, sigma_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalue, each (H, W) float32, of the Hessian of ``image``
    (H, W) float32 at Gaussian scale ``sigma_px``, scale-normalised (× σ²)."""
    smooth = cv2.GaussianBlur(image, (0, 0), sigma_px)
    dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3)
    mean = (dxx + dyy) / 2 * sigma_px**2
    spread = np.sqrt(((dxx - dyy) / 2) ** 2 + dxy**2) * sigma_px**2
    return mean - spread, mean + spread


def _trace_segments(mask: np.ndarray, *, px_per_mm: float) -> list[_Segment]:
    """Straight pieces of the mask's skeleton with the junction each end touches."""
    skeleton = skeletonize(mask)
    neighbours = cv2.filter2D(
        skeleton.astype(np.uint8), -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT
    )
    junction = skeleton & (neighbours >= 4)
    # Junction pixels close together are one junction (a crossing of wide shafts thins to
    # several); pieces ending in that zone end at the junction.
    zone = cv2.dilate(junction.astype(np.uint8), _disc(JUNCTION_RADIUS_MM * px_per_mm)) > 0
    node_near, node_count = ndimage.label(zone, structure=np.ones((3, 3)))
    branch_labels, _branch_count = ndimage.label(skeleton & ~junction, structure=np.ones((3, 3)))
    tolerance = max(1.5, 0.03 * px_per_mm)
    spur_px = 0.5 * MAX_HAIR_WIDTH_MM * px_per_mm

    branches = [
        _straight_pieces(points, tolerance=tolerance) for points in _branch_points(branch_labels)
    ]
    ends = iter(_pieces_ends([piece for pieces in branches for piece in pieces]))
    segments: list[_Segment] = []
    next_node = node_count + 1
    for branch in branches:
        pieces = [next(ends) for _ in branch]
        nodes = [[_node_at(node_near, start), _node_at(node_near, end)] for start, end in pieces]
        # Where a branch was split at a bend, the touching ends share a new node.
        for i, j in itertools.combinations(range(len(pieces)), 2):
            for a, b in itertools.product(range(2), range(2)):
                if np.hypot(*(pieces[i][a] - pieces[j][b])) <= 3.0 and nodes[i][a] < 0:
                    nodes[i][a] = nodes[j][b] = next_node
                    next_node += 1
        segments.extend(
            _Segment(start, end, start_node, end_node)
            for (start, end), (start_node, end_node) in zip(pieces, nodes, strict=True)
        )

    # Short pieces between two junctions are the overlap of a shallow crossing: merge the
    # junctions. Short pieces from a junction to nowhere are skeleton spurs: drop them.
    parent = list(range(next_node + 1))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    kept = []
    for segment in segments:
        joined = segment.start_node > 0 and segment.end_node > 0
        if (
            joined
            and segment.length < BRIDGE_MAX_MM * px_per_mm
            and segment.start_node <= node_count
            and segment.end_node <= node_count
        ):
            parent[find(segment.start_node)] = find(segment.end_node)
        elif (segment.start_node > 0) != (segment.end_node > 0) and segment.length < spur_px:
            continue
        else:
            kept.append(segment)
    return [
        _Segment(
            s.start,
            s.end,
            find(s.start_node) if s.start_node > 0 else -1,
            find(s.end_node) if s.end_node > 0 else -1,
        )
        for s in kept
    ]


def _branch_points(labels: np.ndarray) -> list[np.ndarray]:
    """Per label of ``labels`` (H, W) int (0: none), in label order: its pixels, (N, 2)
    float (x, y), in row-major order."""
    ys, xs = np.nonzero(labels)
    owners = labels[ys, xs]
    order = np.argsort(owners, kind="stable")
    points = np.column_stack((xs[order], ys[order])).astype(float)
    return np.split(points, np.flatnonzero(np.diff(owners[order])) + 1) if len(points) else []


def _node_at(node_near: np.ndarray, point: np.ndarray) -> int:
    x = min(max(round(float(point[0])), 0), node_near.shape[1] - 1)
    y = min(max(round(float(point[1])), 0), node_near.shape[0] - 1)
    label = int(node_near[y, x])
    return label if label > 0 else -1


def _straight_pieces(points: np.ndarray, *, tolerance: float, depth: int = 0) -> list[np.ndarray]:
    """Split an (N, 2) skeleton branch at its sharpest bends into near-straight pieces."""
    if len(points) < 5 or depth > 4:
        return [points]
    first = points[np.argmax(np.hypot(*(points - points.mean(axis=0)).T))]
    last = points[np.argmax(np.hypot(*(points - first).T))]
    chord = last - first
    length = float(np.hypot(*chord))
    if length == 0:
        return [points]
    unit = chord / length
    relative = points - first
    offset = np.abs(relative[:, 0] * unit[1] - relative[:, 1] * unit[0])
    if offset.max() <= tolerance:
        return [points]
    along = relative @ unit
    split = along[np.argmax(offset)]
    before, after = points[along <= split], points[along > split]
    if len(before) < 2 or len(after) < 2:
        return [points]
    return _straight_pieces(before, tolerance=tolerance, depth=depth + 1) + _straight_pieces(
        after, tolerance=tolerance, depth=depth + 1
    )


def _pieces_ends(pieces: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per near-straight (N, 2) run of skeleton points: its two ends along its principal
    axis. Runs of one length share one stacked SVD (the cost is per call, not per run)."""
    ends: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    by_length: dict[int, list[int]] = {}
    for index, piece in enumerate(pieces):
        by_length.setdefault(len(piece), []).append(index)
    for length, indices in by_length.items():
        stacked = np.stack([pieces[index] for index in indices])
        centres = stacked.mean(axis=1)
        if length == 1:
            for index, centre in zip(indices, centres, strict=True):
                ends[index] = (centre, centre)
            continue
        _, _, axes = np.linalg.svd(stacked - centres[:, None, :], full_matrices=False)
        for index, centre, axis in zip(indices, centres, axes[:, 0], strict=True):
            along = (pieces[index] - centre) @ axis
            ends[index] = (centre + along.min() * axis, centre + along.max() * axis)
    return [ends[index] for index in range(len(pieces))]


def _join_crossings(
    segments: list[_Segment],
    *,
    mask: np.ndarray | None = None,
    crossing_mask: np.ndarray | None = None,
    max_gap_px: float = 0.0,
    tolerance_px: float = 1.5,
    max_junction_span_px: float = np.inf,
    junction_radius_px: float = 0.0,
) -> list[list[_Segment]]:
    """Group segments into hairs: at each junction, ends meeting head-on continue a hair.

    Head-on means within ``MAX_BEND_DEG``, and the shorter piece turned by the bend strays
    from the longer one's line by at most ``JUNCTION_STRAY_TOLERANCES`` (3 or more ends)
    or ``BEND_STRAY_TOLERANCES`` (2 ends) times ``tolerance_px`` at its far end. Ends
    more than ``max_junction_span_px`` apart do not meet, whatever their junction.

    With ``max_gap_px``, ends left over (free, or not paired at their junction) also
    continue a hair across a gap of up to that length when they meet within
    ``GAP_JOIN_MAX_BEND_DEG`` of head-on and each end lies within ``tolerance_px`` of the
    other piece's line: where two shafts cross or a fan's shafts part, the skeleton often
    breaks the through-going shaft a few pixels short of the junction, or thins the
    crossing to two junctions with no piece between. The gap lies on ``mask`` or, where
    another hair crosses it (a piece, or the gap of a crossing hair broken there too,
    reaching ``junction_radius_px`` beyond its ends), on ``crossing_mask``: the valley
    cuts that part two touching shafts also part a through-going shaft from the one
    crossing it, a pixel on each side.
    """
    parent = list(range(len(segments)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    # Each end as (segment, outward direction, point): at a junction, or left loose.
    ends_at: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    loose: list[tuple[int, np.ndarray, np.ndarray]] = []
    for index, segment in enumerate(segments):
        if segment.length == 0:
            continue
        direction = (segment.end - segment.start) / segment.length
        for node, point, outward in (
            (segment.start_node, segment.start, -direction),
            (segment.end_node, segment.end, direction),
        ):
            if node > 0:
                ends_at.setdefault(node, []).append((index, outward, point))
            else:
                loose.append((index, outward, point))
    cos_limit = np.cos(np.radians(MAX_BEND_DEG))
    for ends in ends_at.values():
        candidates = sorted(
            (float(a[1] @ b[1]), i, j)
            for i, a in enumerate(ends)
            for j, b in enumerate(ends)
            if i < j and a[0] != b[0]
        )
        used: set[int] = set()
        # Outward directions of one straight hair through the junction are opposite.
        for dot, i, j in candidates:
            if -dot < cos_limit:
                break
            if i in used or j in used:
                continue
            shorter = min(segments[ends[i][0]].length, segments[ends[j][0]].length)
            limit = JUNCTION_STRAY_TOLERANCES if len(ends) >= 3 else BEND_STRAY_TOLERANCES
            if shorter * np.sqrt(max(0.0, 1.0 - dot * dot)) > limit * tolerance_px:
                continue
            if float(np.hypot(*(ends[i][2] - ends[j][2]))) > max_junction_span_px:
                continue
            used.update((i, j))
            parent[find(ends[i][0])] = find(ends[j][0])
        loose.extend(end for k, end in enumerate(ends) if k not in used)
    if max_gap_px > 0 and len(loose) > 1:
        gaps = _gaps_on_shafts(
            segments,
            loose,
            mask=mask,
            crossing_mask=crossing_mask,
            max_gap_px=max_gap_px,
            tolerance_px=tolerance_px,
            junction_radius_px=junction_radius_px,
        )
        joined: set[int] = set()
        for i, j in gaps:
            a, b = loose[i][0], loose[j][0]
            if i in joined or j in joined or find(a) == find(b):
                continue
            joined.update((i, j))
            parent[find(a)] = find(b)
    groups: dict[int, list[_Segment]] = {}
    for index, segment in enumerate(segments):
        groups.setdefault(find(index), []).append(segment)
    return list(groups.values())


def _gaps_on_shafts(
    segments: list[_Segment],
    loose: list[tuple[int, np.ndarray, np.ndarray]],
    *,
    mask: np.ndarray | None,
    crossing_mask: np.ndarray | None,
    max_gap_px: float,
    tolerance_px: float,
    junction_radius_px: float,
) -> list[tuple[int, int]]:
    """Pairs (i, j) of ``loose`` ends (segment, outward direction, point) that may continue
    one hair across a gap, in the order to join them (see ``_join_crossings``): gaps on
    ``mask`` before gaps across another hair, each best aligned first."""
    gap_cos_limit = np.cos(np.radians(GAP_JOIN_MAX_BEND_DEG))
    points = np.array([point for _, _, point in loose])
    on_mask: list[tuple[float, int, int]] = []
    # Gaps off ``mask`` but on ``crossing_mask``: (offset, i, j, start, end).
    off_mask: list[tuple[float, int, int, np.ndarray, np.ndarray]] = []
    for i, j in cKDTree(points).query_pairs(max_gap_px):
        (a, out_a, point_a), (b, out_b, point_b) = loose[i], loose[j]
        if a == b or -float(out_a @ out_b) < gap_cos_limit:
            continue
        # The longer piece's line is the hair's: a short piece's own direction is set by
        # a few skeleton pixels bending into the junction.
        if segments[a].length < segments[b].length:
            (point_a, out_a), (point_b, out_b) = (point_b, out_b), (point_a, out_a)
        gap = point_b - point_a
        offset = abs(float(out_a[0] * gap[1] - out_a[1] * gap[0]))
        # The far end must lie ahead, and the gap on the shaft: pieces side by side are
        # two shafts, and a hair ending where another starts leaves skin between.
        if offset > tolerance_px or float(gap @ out_a) < -tolerance_px:
            continue
        if mask is None or _runs_inside(mask, point_a, point_b):
            on_mask.append((offset, i, j))
        elif crossing_mask is not None and _runs_inside(crossing_mask, point_a, point_b):
            off_mask.append((offset, i, j, point_a, point_b))
    crossed: list[tuple[float, int, int]] = []
    if off_mask:
        # A gap off the mask is one hair's only where another hair crosses it: a piece,
        # or the gap of a crossing hair broken there too.
        starts = np.array([s.start for s in segments] + [other[3] for other in off_mask])
        stops = np.array([s.end for s in segments] + [other[4] for other in off_mask])
        crossed = [
            (offset, i, j)
            for k, (offset, i, j, start, end) in enumerate(off_mask)
            if _crosses_a_line(
                start,
                end,
                starts,
                stops,
                but=(loose[i][0], loose[j][0], len(segments) + k),
                reach_px=junction_radius_px,
            )
        ]
    # A gap on the mask is the surer join: an end takes its partner there first.
    return [(i, j) for _, i, j in sorted(on_mask) + sorted(crossed)]


def _crosses_a_line(
    start: np.ndarray,
    end: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    *,
    but: tuple[int, ...],
    reach_px: float,
) -> bool:
    """Whether the straight line from ``start`` to ``end`` ((x, y) px) crosses one of the
    lines from ``starts`` to ``stops`` ((N, 2) px), other than those numbered ``but``,
    each extended by ``reach_px`` at both ends."""
    line = end - start
    pieces = stops - starts
    lengths = np.maximum(np.hypot(*pieces.T), 1e-9)
    denominator = line[0] * pieces[:, 1] - line[1] * pieces[:, 0]
    offsets = starts - start
    parallel = np.abs(denominator) < 1e-9
    denominator = np.where(parallel, 1.0, denominator)
    # Where the line meets each piece's line: as a share of the line, and of the piece.
    on_line = (offsets[:, 0] * pieces[:, 1] - offsets[:, 1] * pieces[:, 0]) / denominator
    on_piece = (offsets[:, 0] * line[1] - offsets[:, 1] * line[0]) / denominator
    line_reach = reach_px / max(float(np.hypot(*line)), 1e-9)
    piece_reach = reach_px / lengths
    crossing = (
        ~parallel
        & (on_line >= -line_reach)
        & (on_line <= 1 + line_reach)
        & (on_piece >= -piece_reach)
        & (on_piece <= 1 + piece_reach)
    )
    crossing[list(but)] = False
    return bool(crossing.any())


def _runs_inside(mask: np.ndarray, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether the straight line from ``start`` to ``end`` ((x, y) px) stays in ``mask``."""
    return bool(_mask_along(mask, start, end).all())


def _mask_along(mask: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``mask`` (H, W) sampled at the nearest pixel along the straight line from ``start``
    to ``end`` ((x, y) px), one point per px and both ends: (N,) of its dtype."""
    steps = max(2, int(np.ceil(np.hypot(*(end - start)))) + 1)
    line = start + np.linspace(0.0, 1.0, steps)[:, None] * (end - start)
    xs = np.clip(np.round(line[:, 0]).astype(int), 0, mask.shape[1] - 1)
    ys = np.clip(np.round(line[:, 1]).astype(int), 0, mask.shape[0] - 1)
    return mask[ys, xs]


def _path_length(group: list[_Segment]) -> float:
    return float(sum(segment.length for segment in group)) + 1.0


def _farthest_ends(group: list[_Segment]) -> tuple[np.ndarray, np.ndarray]:
    points = [p for segment in group for p in (segment.start, segment.end)]
    best = (points[0], points[-1])
    best_distance = -1.0
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            distance = float(np.hypot(*(a - b)))
            if distance > best_distance:
                best, best_distance = (a, b), distance
    return best


@dataclass(frozen=True)
class _HairProfiles:
    """Per hair, medians along it of its contrast profiles across the shaft: the ratio of
    integral to peak (working px), the second moment about the profile's centroid and
    about the trace (px²), the integral and the peak. Each is (N,) float for N hairs; a
    hair without profiles has zeros."""

    ratio: np.ndarray
    moment: np.ndarray
    moment_about_trace: np.ndarray
    integral: np.ndarray
    peak: np.ndarray

    @property
    def shaft_shaped(self) -> np.ndarray:
        """(N,) bool: profiles a blurred shaft can give. A broad skin mark, or a shadow
        traced off its centre, spreads far wider about its trace for its integral: it
        neither sets the blur nor has a width."""
        return self.ratio**2 >= MIN_PROFILE_SHAPE * self.moment_about_trace

    def sharp_edged(self, blur_px: float) -> np.ndarray:
        """(N,) bool: edges no softer than ``SHARP_EDGE_BLUR_RATIO`` times the photo's blur
        σ ``blur_px`` (working px), as a shaft's; a shadow's are softer."""
        return _own_blur_sigmas_px(self.ratio, self.moment) <= SHARP_EDGE_BLUR_RATIO * blur_px

    def of(self, hairs: np.ndarray) -> _HairProfiles:
        """The profiles of the hairs at indices ``hairs``, in that order."""
        return _HairProfiles(*(values[hairs] for values in astuple(self)))

    def and_then(self, other: _HairProfiles) -> _HairProfiles:
        """These hairs' profiles followed by ``other``'s."""
        return _HairProfiles(
            *(np.concatenate(pair) for pair in zip(astuple(self), astuple(other), strict=True))
        )


def _hair_profiles(
    contrast: np.ndarray, groups: list[list[_Segment]], *, px_per_mm: float
) -> _HairProfiles:
    """The :class:`_HairProfiles` of the hairs in ``groups``, sampled across their segments
    on ``contrast`` (H, W) float32. Medians along a hair resist crossings and noise; each
    hair's figures are its own, so hairs sampled apart can be joined."""
    reach = int(np.ceil(0.6 * MAX_HAIR_WIDTH_MM * px_per_mm)) + 3
    per_px = round(1 / PROFILE_STEP_PX)
    offsets = np.arange(-reach * per_px, reach * per_px + 1) / per_px
    middle = reach * per_px
    clearance = 0.6 * MAX_HAIR_WIDTH_MM * px_per_mm
    centres, normals, pieces = [], [], []
    piece_owner = []
    for owner, group in enumerate(groups):
        for segment in group:
            if segment.length < 1:
                continue
            direction = (segment.end - segment.start) / segment.length
            start_gap = clearance if segment.start_node > 0 else 1.0
            end_gap = clearance if segment.end_node > 0 else 1.0
            steps = np.arange(start_gap, segment.length - end_gap, 1.0)
            if steps.size == 0:
                steps = np.array([segment.length / 2])
            centres.append(segment.start + steps[:, None] * direction)
            normals.append(np.repeat([[-direction[1], direction[0]]], len(steps), axis=0))
            pieces.append(np.full(len(steps), len(piece_owner)))
            piece_owner.append(owner)
    if not centres:
        zeros = np.zeros(len(groups))
        return _HairProfiles(zeros, zeros, zeros, zeros, zeros)
    centre = np.concatenate(centres)
    normal = np.concatenate(normals)
    xs = centre[:, 0, None] + normal[:, 0, None] * offsets
    ys = centre[:, 1, None] + normal[:, 1, None] * offsets
    profiles = _cubic_samples(contrast, xs, ys)
    edge = 2 * per_px
    baseline = np.minimum(profiles[:, :edge].mean(axis=1), profiles[:, -edge:].mean(axis=1))
    profiles = np.maximum(profiles - baseline[:, None], 0.0)
    peak = np.maximum(profiles[:, middle - edge : middle + edge + 1].max(axis=1), 1e-6)
    # Integrate only the shaft itself: outward from the centre until the profile falls
    # below PROFILE_CUTOFF of its peak, so a neighbouring shaft beyond a gap is left out.
    above = profiles >= PROFILE_CUTOFF * peak[:, None]
    right = np.cumprod(above[:, middle:], axis=1)
    left = np.cumprod(above[:, middle::-1], axis=1)[:, ::-1]
    own = np.concatenate([left[:, :-1], right], axis=1) > 0
    weights = np.where(own, profiles, 0.0)
    total = np.maximum(weights.sum(axis=1), 1e-6)
    integral = total * PROFILE_STEP_PX
    # The trace runs up to half a pixel off the shaft's centre: the moment is taken about
    # the profile's own centroid, or that offset reads as blur.
    centroid = (weights * offsets).sum(axis=1) / total
    moment = (weights * (offsets - centroid[:, None]) ** 2).sum(axis=1) / total
    moment_about_trace = (weights * offsets**2).sum(axis=1) / total

    figures = (integral / peak, moment, moment_about_trace, integral, peak)
    # A hair traced through a junction may have taken in the stretch where two shafts of a
    # unit overlap (a vellus shaft's arm joined to the stem it shares with a terminal one):
    # its thinnest straight piece with enough samples reads its own shaft. A hair with no
    # such piece takes the medians of all its samples.
    piece_of = np.concatenate(pieces)
    owner_of_piece = np.asarray(piece_owner)
    samples = np.bincount(piece_of, minlength=owner_of_piece.size)
    by_piece = np.stack([_grouped_median(v, piece_of, groups=owner_of_piece.size) for v in figures])
    usable = np.flatnonzero(samples >= MIN_PIECE_SAMPLES)
    order = usable[np.lexsort((by_piece[0, usable], owner_of_piece[usable]))]
    owners_in_order = owner_of_piece[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = owners_in_order[1:] != owners_in_order[:-1]
    thinnest = order[first]
    by_thinnest = owner_of_piece[thinnest]
    owner_of = owner_of_piece[piece_of]
    pooled = ~np.isin(owner_of, by_thinnest)
    hairs = np.stack(
        [_grouped_median(v[pooled], owner_of[pooled], groups=len(groups)) for v in figures]
    )
    hairs[:, by_thinnest] = by_piece[:, thinnest]
    return _HairProfiles(*hairs)


def _cubic_samples(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``image`` (H, W) float32 at the points (``xs``, ``ys``) (any equal shapes, px),
    by cubic convolution, the border replicated; same shape as ``xs``."""
    flat_x = xs.astype(np.float32).ravel()
    flat_y = ys.astype(np.float32).ravel()
    # cv2.remap's maps are limited to SHRT_MAX in each dimension.
    width = 4096
    rows = -(-flat_x.size // width)
    padding = rows * width - flat_x.size
    map_x = np.pad(flat_x, (0, padding)).reshape(rows, width)
    map_y = np.pad(flat_y, (0, padding)).reshape(rows, width)
    sampled = cv2.remap(
        image.astype(np.float32, copy=False),
        map_x,
        map_y,
        cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return sampled.ravel()[: flat_x.size].reshape(xs.shape)


def _profile_widths_px(
    profiles: _HairProfiles, *, px_per_mm: float, by_own_edges: bool = True
) -> tuple[list[float], list[float]]:
    """Shaft width (working px) and median peak contrast of each hair of ``profiles``,
    sampled at ``px_per_mm``.

    A blurred shaft's profile is a box of its width convolved with the photo's blur. The
    ratio of the profile's integral to its peak depends only on width and blur, whatever
    the shaft's colour; the blur comes from the profiles' second moments (one value for the
    photo, over these hairs), and each width from inverting that ratio. Shafts narrower
    than about three blur σ are measured as integral / contrast of the photo's resolved
    shafts (paler thin hairs then read a little thinner), unless (``by_own_edges``) the
    hair's own profile shows a sharp-edged shaft wider than ``RESOLVED_MIN_WIDTH_MM``.
    """
    if profiles.ratio.size == 0:
        return [], []
    shaft_shaped = profiles.shaft_shaped
    blur_px = _photo_blur_px(profiles)
    widths = _width_from_ratio(profiles.ratio, blur_px)
    # Below about three blur σ the ratio hardly changes with width; there the shaft's
    # integral over the contrast of the photo's resolved shafts is the better estimate.
    resolved = widths >= 3 * blur_px
    if resolved.any():
        shaft_level = float(np.median(profiles.peak[resolved]))
        thin = profiles.integral / max(shaft_level, 1e-6)
        # A faint trace that reads wide by its profile's shape (a shadow, skin between
        # shafts) is no darker in all than a thin shaft: a hair is thin when either
        # estimate says so (by the shape alone, quick-set vellus error 0.054 -> 0.075 and
        # mean width bias +1.4 -> +4.9 %), unless its edges are a shaft's, not a shadow's,
        # and clearly wider than a vellus shaft (a white shaft among pigmented ones).
        sharp_and_wide = (
            profiles.sharp_edged(blur_px)
            & (widths >= RESOLVED_MIN_WIDTH_MM * px_per_mm)
            & by_own_edges
        )
        resolved &= (thin >= 3 * blur_px) | sharp_and_wide
        widths[~resolved] = np.minimum(thin[~resolved], 3 * blur_px)
    widths[~shaft_shaped] = 0.0
    return list(widths), list(profiles.peak)


def _grouped_median(values: np.ndarray, owner_of: np.ndarray, *, groups: int) -> np.ndarray:
    """Median of ``values`` (N,) per owner index in ``owner_of`` (N,) int, for owners
    0..groups-1 (0 for an owner without values), as ``np.median`` gives it: one sort for
    all hairs instead of a mask per hair, which cost 0.2 s on a 12-MP photo."""
    order = np.lexsort((values, owner_of))
    ordered = values[order]
    counts = np.bincount(owner_of, minlength=groups)[:groups]
    starts = np.cumsum(counts) - counts
    medians = np.zeros(groups)
    present = counts > 0
    low = (starts + (counts - 1) // 2)[present]
    high = (starts + counts // 2)[present]
    medians[present] = (ordered[low] + ordered[high]) / 2
    return medians


@functools.cache
def _cut_profile_shape() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a blurred shaft's cut profile looks, as the widths/blur t (a grid) and, for each,
    the ratio of integral to peak (in blur σ) and the second moment (in σ²).

    The profile of a shaft of width tσ blurred by a Gaussian of σ is
    p(x) = (erf((x + tσ/2) / (√2σ)) − erf((x − tσ/2) / (√2σ))) / 2, integrated (like
    :func:`_hair_profiles`) only where it stays above ``PROFILE_CUTOFF`` of its peak. The cut
    matters most for thin shafts: an uncut Gaussian has ratio 2.51σ and moment σ², the cut
    one 2.20σ and 0.58σ², which an uncut model reads as a sharp shaft twice as wide.
    """
    t = np.concatenate([np.linspace(0.01, 20.0, 200), np.geomspace(20.5, 4000.0, 80)])
    half = t / 2

    def profile(x: np.ndarray) -> np.ndarray:
        h = half.reshape((-1,) + (1,) * (x.ndim - 1))
        return (special.erf((x + h) / np.sqrt(2)) - special.erf((x - h) / np.sqrt(2))) / 2

    peak = profile(np.zeros(t.size))
    low, high = np.zeros(t.size), half + 6.0
    for _ in range(40):
        middle = (low + high) / 2
        above = profile(middle) >= PROFILE_CUTOFF * peak
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    # The flat top (p = 1 to 1e-6 up to 5 σ inside the edge) in closed form, the edge by
    # Gauss-Legendre quadrature.
    flat = np.clip(half - 5.0, 0.0, low)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    span = (low - flat)[:, None] / 2
    x = flat[:, None] + span * (nodes + 1)
    values = profile(x) * weights * span
    integral = 2 * (flat + values.sum(axis=1))
    second = 2 * (flat**3 / 3 + (values * x**2).sum(axis=1))
    table = (t, integral / peak, second / integral)
    for column in table:
        column.setflags(write=False)
    return table


def _photo_blur_px(profiles: _HairProfiles) -> float:
    """The photo's blur σ (working px) from the hairs' profiles that a shaft can give."""
    shaped = profiles.shaft_shaped
    return _blur_sigma_px(profiles.ratio[shaped], profiles.moment[shaped])


def _blur_sigma_px(ratio: np.ndarray, moment: np.ndarray) -> float:
    """The photo's blur σ (working px): the ``BLUR_PERCENTILE`` over hairs of their own
    blur σ (:func:`_own_blur_sigmas_px`)."""
    sigmas = _own_blur_sigmas_px(ratio, moment)
    sigmas = sigmas[np.isfinite(sigmas)]
    if not sigmas.size:
        return 1.0
    return float(np.percentile(sigmas, BLUR_PERCENTILE))


def _own_blur_sigmas_px(ratio: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """(N,) blur σ (working px) that, with some width, explains both each hair's
    integral/peak ``ratio`` (N,) and its second ``moment`` (N,), whose ratio²/moment
    depends on width/blur alone; NaN for a hair without a profile."""
    t, ratio_per_blur, moment_per_blur_sq = _cut_profile_shape()
    present = (ratio > 0) & (moment > 0)
    shape = np.maximum.accumulate(ratio_per_blur**2 / moment_per_blur_sq)
    width_per_blur = np.interp(ratio[present] ** 2 / moment[present], shape, t)
    sigmas = np.full(ratio.shape, np.nan)
    sigmas[present] = ratio[present] / np.interp(width_per_blur, t, ratio_per_blur)
    return sigmas


def _width_from_ratio(ratio: np.ndarray, blur_px: float) -> np.ndarray:
    """Width (working px) of each hair whose cut profile has integral/peak ``ratio`` under
    the blur σ ``blur_px`` (the ratio grows with width; below a bare blur's, width 0)."""
    t, ratio_per_blur, _ = _cut_profile_shape()
    return np.interp(ratio / blur_px, ratio_per_blur, t, left=0.0) * blur_px


def _distance_to_excluded(analysed: np.ndarray) -> np.ndarray:
    padded = np.pad(analysed.astype(np.uint8), 1)
    return cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]


def _midpoint_inside(
    ends: list[tuple[np.ndarray, np.ndarray]],
    lengths: list[float],
    is_cut: list[bool],
    *,
    frame_px: tuple[int, int],
    is_vellus: list[bool] | None = None,
) -> list[bool]:
    """The midpoint rule: which hairs count, given each one's ``ends`` and ``lengths``
    (working px) and whether it is cut by the border of the analysed area (``is_cut``),
    whose bounding box is ``frame_px`` (height, width).

    Whole hairs count. A cut hair showing a part ``v`` of its length ``L`` has its midpoint
    inside when ``L ≤ 2 v``; ``L`` is unknown, so the count of cut hairs is the expected
    one, ``Σ P(L ≤ 2 v | L > v)``, over the photo's distribution of hair lengths, and the
    cut hairs showing the longest parts are the ones counted. A cut hair is seen along a
    uniformly placed stretch of its length, and hairs are cut in proportion to their
    length: the two cancel, so ``P(L ≤ 2 v | L > v) = (F(2 v) − F(v)) / (1 − F(v))``.
    ``F`` comes from the whole hairs, each weighted by the inverse of the chance that a
    hair of its length and direction lies wholly in the frame (long hairs are more often
    cut, so the whole ones are mostly short).

    With ``is_vellus`` (per hair) a cut hair's ``F`` comes from the whole hairs of its own
    kind, when at least ``MIN_WHOLE_OF_KIND`` of them show: vellus hairs are shorter than
    terminal ones, so among all hairs a cut vellus hair showing more than half its length
    reads as a long hair's short part.
    """
    cut = np.asarray(is_cut, dtype=bool)
    whole = ~cut
    if not whole.any() or not cut.any():
        return [True] * len(cut)
    height, width = frame_px
    span = np.array([end - start for start, end in ends], dtype=float).reshape(-1, 2)
    all_lengths = np.asarray(lengths, dtype=float)
    cosine = np.abs(span[:, 0]) / np.maximum(np.hypot(span[:, 0], span[:, 1]), 1e-9)
    sine = np.sqrt(1.0 - cosine**2)
    inside_chance = (
        np.maximum(width - all_lengths * cosine, 0.0)
        * np.maximum(height - all_lengths * sine, 0.0)
        / (width * height)
    )
    weights = 1.0 / np.maximum(inside_chance, MIN_WHOLE_CHANCE)
    vellus = np.zeros(len(cut), dtype=bool) if is_vellus is None else np.asarray(is_vellus)
    counted = np.ones(len(cut), dtype=bool)
    for kind in (False, True):
        cut_of_kind = cut & (vellus == kind)
        if not cut_of_kind.any():
            continue
        reference = whole & (vellus == kind)
        if np.count_nonzero(reference) < MIN_WHOLE_OF_KIND:
            reference = whole
        counted[cut_of_kind] = _expected_cut_hairs(
            all_lengths[cut_of_kind], all_lengths[reference], weights[reference]
        )
    return counted.tolist()


def _expected_cut_hairs(
    visible: np.ndarray, whole_lengths: np.ndarray, whole_weights: np.ndarray
) -> np.ndarray:
    """(N,) bool: which of the cut hairs showing ``visible`` (N,) px count, by
    :func:`_midpoint_inside`'s rule, given whole hairs of ``whole_lengths`` (M,) px with
    ``whole_weights`` (M,)."""
    order = np.argsort(whole_lengths)
    sorted_lengths = whole_lengths[order]
    cumulative = np.cumsum(whole_weights[order]) / whole_weights.sum()

    def share_up_to(length: np.ndarray) -> np.ndarray:
        return np.interp(length, sorted_lengths, cumulative, left=0.0, right=1.0)

    longer_share = 1.0 - share_up_to(visible)
    midpoint_chance = np.where(
        longer_share > 1e-6,
        (share_up_to(2 * visible) - share_up_to(visible)) / np.maximum(longer_share, 1e-6),
        1.0,
    )
    counted = np.zeros(visible.size, dtype=bool)
    counted[np.argsort(-visible)[: round(float(midpoint_chance.sum()))]] = True
    return counted


def _bounding_size(mask: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of ``mask`` (H, W) bool, at least 1 × 1."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 1, 1
    return int(rows[-1] - rows[0] + 1), int(columns[-1] - columns[0] + 1)


def _cut_by_border(ends: list[tuple[np.ndarray, np.ndarray]], analysed: np.ndarray) -> list[bool]:
    """Whether each hair (its two ends, working px) ends at the border of the analysed area."""
    if not ends:
        return []
    distance = _distance_to_excluded(analysed)
    points = np.round(np.array(ends, dtype=float))  # (hairs, 2 ends, x and y)
    xs = np.clip(points[..., 0], 0, distance.shape[1] - 1).astype(int)
    ys = np.clip(points[..., 1], 0, distance.shape[0] - 1).astype(int)
    return (distance[ys, xs] <= 3.0).any(axis=1).tolist()


def _follicular_units(ends: list[tuple[np.ndarray, np.ndarray]], *, radius_px: float) -> list[int]:
    """Unit index of each hair: hairs with an end within ``radius_px`` of each other's,
    leaving it within ``UNIT_MAX_FAN_DEG`` of each other."""
    parent = list(range(len(ends)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    if len(ends) > 1:
        points = np.array([p for pair in ends for p in pair])
        # From each end, the direction its hair runs off in (towards its other end).
        away = points.reshape(-1, 2, 2)[:, ::-1].reshape(-1, 2) - points
        away /= np.maximum(np.hypot(*away.T), 1e-9)[:, None]
        fan_cos = np.cos(np.radians(UNIT_MAX_FAN_DEG))
        for i, j in cKDTree(points).query_pairs(radius_px):
            if i // 2 != j // 2 and float(away[i] @ away[j]) >= fan_cos:
                parent[find(i // 2)] = find(j // 2)
    roots = [find(i) for i in range(len(ends))]
    numbering = {root: n for n, root in enumerate(dict.fromkeys(roots))}
    return [numbering[root] for root in roots]


def _unit_centres(hairs: list[TracedHair]) -> tuple[tuple[float, float], ...]:
    """Where each unit's hairs meet (the start of a single hair's shaft)."""
    by_unit: dict[int, list[TracedHair]] = {}
    for hair in hairs:
        by_unit.setdefault(hair.unit, []).append(hair)
    centres = []
    for unit in sorted(by_unit):
        members = by_unit[unit]
        if len(members) == 1:
            centres.append(members[0].start_px)
            continue
        ends = np.array([p for h in members for p in (h.start_px, h.end_px)])
        # The shared opening is the end point closest to the other hairs' ends.
        spread = [np.sort(np.hypot(*(ends - p).T))[1] for p in ends]
        anchor = ends[int(np.argmin(spread))]
        close = ends[
            np.hypot(*(ends - anchor).T) <= np.sort(np.hypot(*(ends - anchor).T))[len(members) - 1]
        ]
        centres.append((float(close[:, 0].mean()), float(close[:, 1].mean())))
    return tuple(centres)


def count_issues(result: TrichoscopyResult) -> tuple[QualityIssue, ...]:
    """The quality issues of a photo whose hairs the engine cannot count reliably: hairs
    longer than ``MAX_TRACED_LENGTH_MM`` (not clipped), or overlapping beyond
    ``MAX_UNTRACED_SHARE``, where the count's estimate of hidden hairs is not to be trusted.
    """
    retake = "clip the hair to about 1 mm in this spot and retake the photo."
    issues = []
    if result.long_length_mm > MAX_TRACED_LENGTH_MM:
        issues.append(
            QualityIssue(
                "hairs_too_long",
                f"The hairs are too long to be counted reliably (they break into pieces where "
                f"they cross): {retake}",
                round(result.long_length_mm, 2),
            )
        )
    if result.untraced_share > MAX_UNTRACED_SHARE:
        issues.append(
            QualityIssue(
                "hairs_overlap",
                f"The hairs overlap too much to be counted reliably: {retake}",
                round(result.untraced_share, 3),
            )
        )
    return tuple(issues)


def hair_figures(
    hairs: list[TracedHair], *, area_cm2: float | None, untraced_share: float
) -> dict[str, Figure]:
    """``TRICHOSCOPY_FIGURES`` of the counted ``hairs`` of an area of ``area_cm2`` (None
    without calibration), in a photo where hair that no trace accounts for covers
    ``untraced_share`` (0-1) of the analysed area.

    Each trace is one hair; ``hair_count`` adds the hairs no trace shows, in proportion
    to that share (``HIDDEN_HAIRS_PER_UNTRACED_SHARE``), and ``vellus_count`` its share of
    them. ``vellus_fraction`` and ``mean_width_um`` are of the traced hairs.
    """
    hidden_factor = 1.0 + HIDDEN_HAIRS_PER_UNTRACED_SHARE * untraced_share
    count = round(len(hairs) * hidden_factor)
    units = len({h.unit for h in hairs})
    figures: dict[str, Figure] = dict.fromkeys(TRICHOSCOPY_FIGURES)
    figures["hair_count"] = count
    figures["follicular_units"] = units
    figures["hairs_per_unit"] = count / units if units else None
    if area_cm2 is not None:
        widths = [h.width_um for h in hairs if h.width_um is not None]
        traced_vellus = sum(1 for h in hairs if h.vellus)
        vellus = round(traced_vellus * hidden_factor)
        figures["area_cm2"] = area_cm2
        figures["density_per_cm2"] = count / area_cm2 if area_cm2 > 0 else None
        figures["vellus_count"] = vellus
        figures["terminal_count"] = count - vellus
        figures["vellus_fraction"] = traced_vellus / len(hairs) if hairs else None
        figures["mean_width_um"] = float(np.mean(widths)) if widths else None
    return figures


def _estimate_px_per_mm(image: np.ndarray) -> float:
    """Pixel size guessed from the median shaft width, assuming ``TYPICAL_WIDTH_MM``.

    Used only to set the engine's internal lengths when no calibration is given.
    """
    height, width = image.shape[:2]
    shrink = min(1.0, 640.0 / max(height, width))
    small = cv2.resize(
        image,
        (max(1, round(width * shrink)), max(1, round(height * shrink))),
        interpolation=cv2.INTER_AREA,
    )
    short_side = min(small.shape[:2])
    normalised = normalize_illumination(
        small, hair_width_px=short_side / 15, smoothing_px=short_side / 8
    )
    contrast = cv2.GaussianBlur(shaft_contrast(normalised), (0, 0), 1.0)
    mask = apply_hysteresis_threshold(contrast, LOW_CONTRAST_FLOOR * 1.5, HIGH_CONTRAST_FLOOR * 1.5)
    # Without a scale, "around" means a fiftieth of the frame: wider than any shaft.
    mask &= _above_half_maximum(contrast, px_per_mm=short_side / 50 / MAX_HAIR_WIDTH_MM)
    first, stop = caption_free_rows(small)
    mask[:first] = False
    mask[stop:] = False
    skeleton = skeletonize(mask)
    if skeleton.sum() < 10:
        return max(height, width) / 10.0
    half_widths = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)[skeleton]
    width_px = 2.0 * float(np.median(half_widths)) / shrink
    return width_px / TYPICAL_WIDTH_MM


_OVERLAY_TERMINAL = (86, 180, 233)  # Okabe–Ito sky blue
_OVERLAY_VELLUS = (230, 159, 0)  # Okabe–Ito orange
_OVERLAY_UNKNOWN = (0, 158, 115)  # Okabe–Ito bluish green: width not calibrated
_OVERLAY_UNIT = (204, 121, 167)  # Okabe–Ito reddish purple


def draw_trichoscopy_overlay(
    rgb: np.ndarray, result: TrichoscopyResult, *, scale: float = 1.0
) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with every counted hair and unit drawn on it.

    ``rgb`` is the measured photo resized by ``scale`` (its pixels per photo pixel), so a
    small overlay of a large photo is drawn small, not drawn large and shrunk.
    Terminal hairs are blue, vellus hairs orange (green when widths are uncalibrated),
    units are purple rings at their openings; rows outside the analysed band are dimmed.
    Colours are from the Okabe–Ito palette, distinguishable with colour-vision deficiency.
    """
    overlay = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8).copy())
    height, width = overlay.shape[:2]
    first, stop = (round(row * scale) for row in result.analysed_rows)
    overlay[:first] //= 3
    overlay[stop:] //= 3
    thickness = max(1, round(max(height, width) / 500))
    for hair in result.hairs:
        if not hair.counted:
            continue
        colour = (
            _OVERLAY_UNKNOWN
            if hair.vellus is None
            else _OVERLAY_VELLUS
            if hair.vellus
            else _OVERLAY_TERMINAL
        )
        start = tuple(round(v * scale) for v in hair.start_px)
        end = tuple(round(v * scale) for v in hair.end_px)
        cv2.line(overlay, start, end, colour, thickness, lineType=cv2.LINE_AA)
    radius = max(4, round(max(height, width) / 100))
    for centre in result.unit_centres_px:
        point = tuple(round(v * scale) for v in centre)
        cv2.circle(overlay, point, radius, _OVERLAY_UNIT, thickness, lineType=cv2.LINE_AA)
    return overlay
