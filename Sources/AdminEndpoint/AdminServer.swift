// The admin HTTP endpoint: written on branch admin-endpoint.
import Switch
