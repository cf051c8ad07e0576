"""Pure PyTorch side of the studio: the autoencoder, MNIST, training, PCA, noise and model files.

It may import torch, torchvision, numpy, scipy, Pillow, safetensors and tqdm (the CLI's bar), never
streamlit, plotly or the layers above it (service, ui, app_pages). model.fast holds the trainer's speed code.
"""
