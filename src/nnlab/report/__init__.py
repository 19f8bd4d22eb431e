"""Rendering the lab report (HTML site and PDF) from saved runs; no TensorFlow needed."""
