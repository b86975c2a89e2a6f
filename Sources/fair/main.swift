print("fair")
