"""How a file is recognised, without Django: its exact and perceptual hashes (hashing), the near-duplicate
index over PDQ hashes (pdqindex) and the invisible watermark of public previews (watermark)."""
