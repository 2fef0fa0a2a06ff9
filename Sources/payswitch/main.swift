print("payswitch")
