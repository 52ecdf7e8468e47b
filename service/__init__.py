"""MMED Serve gateway: FastAPI in front of an embedded TensorFlow or a TF Serving backend."""
