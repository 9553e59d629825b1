"""Azure adapter: subscriptions read through Azure Resource Manager (azure-mgmt-resource + locks).

Importing this package does not import the Azure SDK; ``AzureAdapter.inventory`` does, on first use.
"""

from providers.azure.adapter import AzureAdapter

__all__ = ["AzureAdapter"]
