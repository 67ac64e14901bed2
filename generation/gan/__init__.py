"""The GAN engine: pure PyTorch + ONNX, no Django. See DESIGN.md (generation/gan/)."""
