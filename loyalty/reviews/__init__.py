"""Points for product reviews, sent by review apps to `/integrations/reviews/<source>`.

One adapter per source (judgeme.py, generic.py) reads how that sender signs and shapes a
review; services.py stores each verified delivery, then rewards it once per member and
product, only for a buyer of the product, whatever the review's rating (docs/reviews.md).
"""
