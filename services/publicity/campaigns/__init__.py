"""模拟积分 campaigns on the public estimate page: invited holders join or withdraw, proving who they are."""
