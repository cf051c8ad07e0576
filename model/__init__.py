"""Pure PyTorch side of the studio: the autoencoder, MNIST, training, PCA, noise and model files."""
