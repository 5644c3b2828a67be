"""The policy office's 模拟积分 campaigns with real holders: a sample drawn from the permit register,
participants' facts cross-checked by the departments, and a report weighted to the register."""
