"""The shared U-Net: shapes for images and clips, and a time embedding every block hears."""

import torch

from poe_demo.unet import UNet


def test_the_unet_maps_any_channel_count_back_to_itself():
    for channels, size in ((1, 14), (8, 16)):
        net = UNet(width=8, channels=channels)
        x = torch.randn(3, channels, size, size)
        assert net(x, torch.tensor([0.0, 500.0, 1000.0])).shape == x.shape
        assert net(x, 250.0).shape == x.shape


def test_the_output_depends_on_t_and_each_item_only_on_its_own_t():
    torch.manual_seed(0)
    net = UNet(width=8, channels=2).eval()
    x = torch.randn(2, 2, 8, 8)
    both = net(x, torch.tensor([100.0, 900.0]))
    assert torch.allclose(both[:1], net(x[:1], 100.0), atol=1e-6)
    assert not torch.allclose(both[:1], net(x[:1], 900.0), atol=1e-3)
