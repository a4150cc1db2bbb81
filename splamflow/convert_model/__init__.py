"""`convert-model`: a published Splam model (TorchScript or state_dict) as splamflow safetensors + JSON."""
