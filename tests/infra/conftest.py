import os

# jsii prints a banner on stderr for Node releases it no longer tests. It reads this variable
# when aws_cdk is first imported, and pytest loads this file before any test module.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
