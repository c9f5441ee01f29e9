"""Quota policies, runtime profiles and usage accounting: pure logic with an explicit clock."""
