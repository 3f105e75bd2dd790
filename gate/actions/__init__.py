"""What gate does after a verdict: hold or release the build, mark AMIs, sign the decision."""
