"""The load benchmark's baseline: the smallest Streamlit page that shows a table of the same
shape as the Results review (served by the same Streamlit, measured by the same harness)."""

import pandas as pd
import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
st.title("Results")
st.dataframe(pd.DataFrame({"variant": [f"#{i} variant" for i in range(6)], "impressions": range(6),
                           "quality take rate": [0.1] * 6}), hide_index=True)
